"""The sign-in dialog: user, password, remember me. It only collects what the operator types;
the composition root signs in and reports the outcome back with :meth:`LoginDialog.show_error`."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)


class LoginDialog(QDialog):
    """Emits ``submitted(user, password, remember)``; stays open until the owner accepts it."""

    submitted = Signal(str, str, bool)

    def __init__(self, server: str, user: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(self.tr("CityOps Console — sign in"))
        self.setMinimumWidth(420)
        title = QLabel(self.tr("Unified city operations — Putuo District"))
        title.setStyleSheet("font-size: 15pt; font-weight: bold")
        self.user = QLineEdit(user)
        self.user.setObjectName("user")
        self.password = QLineEdit()
        self.password.setObjectName("password")
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.remember = QCheckBox(self.tr("Remember me on this workstation"))
        self.error = QLabel()
        self.error.setObjectName("loginError")
        self.error.setWordWrap(True)
        self.error.setStyleSheet("color:#c62828")
        form = QFormLayout()
        form.addRow(self.tr("Server"), QLabel(server))
        form.addRow(self.tr("User"), self.user)
        form.addRow(self.tr("Password"), self.password)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText(self.tr("Sign in"))
        buttons.accepted.connect(self._submit)
        buttons.rejected.connect(self.reject)
        self.buttons = buttons
        layout = QVBoxLayout(self)
        layout.addWidget(title)
        layout.addLayout(form)
        layout.addWidget(self.remember)
        layout.addWidget(self.error)
        layout.addWidget(buttons)
        if user:
            self.password.setFocus()

    def _submit(self) -> None:
        if not self.user.text().strip() or not self.password.text():
            self.show_error(self.tr("Enter your user name and password."))
            return
        self.error.setText(self.tr("Signing in…"))
        self.error.setStyleSheet("color:#555")
        self.buttons.setEnabled(False)
        self.submitted.emit(self.user.text().strip(), self.password.text(), self.remember.isChecked())

    def show_error(self, message: str) -> None:
        self.error.setStyleSheet("color:#c62828")
        self.error.setText(message)
        self.buttons.setEnabled(True)

"""城市体检报告: the district's periodic health check report for decision makers (seed 二.(三).8).

:mod:`app.report.data` is what a report says, as plain data; :mod:`app.report.from_store`
gathers it from the server's store; :mod:`app.report.render` writes it as HTML and PDF with Qt
alone; :mod:`app.report.main` is ``cityops report``. The renderer knows only the data, so the
console can build the same report from what the server's interface and its cache give it.
"""

"""The video wall: live cameras in a grid of tiles (:mod:`widgets.video.wall`), the cameras to put
on it (:mod:`widgets.video.cameras`), and the screen that holds both (:mod:`widgets.video.panel`).

Images arrive through a thread-safe :class:`~widgets.video.feed.TileFeed` per tile, filled on the
media thread and read on the Qt thread; :mod:`widgets.video.feed` imports no Qt, so the map and
the camera list can share its drag-and-drop format without pulling in the wall.
"""

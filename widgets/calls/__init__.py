"""Calls between command centres: video conferences (:mod:`widgets.calls.conference`) and
push-to-talk talk groups, 集群呼叫 (:mod:`widgets.calls.talk`).

Pure widgets: they show what the owner sets and signal what the operator asks for; signalling,
media and floor control live elsewhere. Video reaches a conference tile the way it reaches the
video wall, through a thread-safe :class:`~widgets.video.feed.TileFeed` filled on the media
thread.
"""

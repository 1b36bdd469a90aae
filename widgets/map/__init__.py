"""The district map in two dimensions: :class:`~widgets.map.view2d.MapView`."""

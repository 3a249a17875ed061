"""marshmallow schemas of the co-building layer: requests in, views out; one module per resource."""

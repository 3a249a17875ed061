"""marshmallow schemas: request validation in, views out. One module per resource."""
from marshmallow import ValidationError

from ..errors import ValidationFailed


def load_or_422(schema, data):
    """Validate ``data``; raises ValidationFailed with marshmallow's field messages."""
    try:
        return schema.load(data)
    except ValidationError as err:
        raise ValidationFailed(details={"fields": err.messages})

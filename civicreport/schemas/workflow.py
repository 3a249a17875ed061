"""Transition requests, login and the unit worklist."""
from marshmallow import RAISE, Schema, fields, validate


class TransitionSchema(Schema):
    class Meta:
        unknown = RAISE

    action = fields.String(required=True, validate=validate.Length(max=32))
    note = fields.String(load_default=None, validate=validate.Length(max=1000))
    category = fields.String(load_default=None, validate=validate.Length(max=8))
    unit = fields.String(load_default=None, validate=validate.Length(max=32))
    duplicate_of = fields.String(load_default=None, validate=validate.Length(max=32))
    hours = fields.Integer(load_default=None, strict=True)
    rating = fields.Integer(load_default=None, strict=True)
    comment = fields.String(load_default=None, validate=validate.Length(max=500))
    media_ids = fields.List(fields.String(validate=validate.Length(max=32)), load_default=None,
                            validate=validate.Length(max=6))


class LoginSchema(Schema):
    class Meta:
        unknown = RAISE

    login = fields.String(required=True, validate=validate.Length(min=1, max=64))
    password = fields.String(required=True, validate=validate.Length(min=1, max=256))


class UserSchema(Schema):
    id = fields.Integer()
    name = fields.String()
    display_name = fields.String()
    role = fields.String()
    unit = fields.Function(lambda u: u.unit.code if u.unit else None)

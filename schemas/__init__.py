"""Label orders, boundary models, internal records and Arrow schemas."""

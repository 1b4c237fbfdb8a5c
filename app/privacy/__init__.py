"""Personal data (PIPL), the layer below the domains that hold it: sealing at rest, masking,
consent, the access log. What acts on wishes, volunteers and accounts (reveals, deletion,
retention) is in app/rights."""

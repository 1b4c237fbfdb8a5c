"""积分: earned per credited hour, redeemed at the 爱心超市, adjusted by staff; an append-only
ledger per volunteer."""

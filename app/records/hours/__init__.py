"""The hours ledger (志愿服务记录): confirming service records, the append-only entries,
corrections and the record's export."""

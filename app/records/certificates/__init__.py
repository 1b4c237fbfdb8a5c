"""Service certificates (志愿服务证明): issued from the ledger, numbered, verifiable, as PDF."""

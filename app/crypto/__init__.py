"""Field encryption: sealing values at rest (AES-256-GCM, rotating keys), the keyed lookup hash,
and the column types that seal personal data. Imports nothing else of the application."""

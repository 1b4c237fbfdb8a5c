"""Text messages to a phone, behind one provider interface (`provider.SmsProvider`)."""

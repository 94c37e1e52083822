"""whatsapp: WhatsApp Business Platform (Cloud API) business accounts and phone numbers."""

"""The tutorial's network: its layer plan and builder (plan), its saved file (saved)."""

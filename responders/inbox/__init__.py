"""The inbox: conversations, their lifecycle and history."""

"""Developer tools: the terminal chat, the phone line simulator, the espace-client stand-in."""

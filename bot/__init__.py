"""The Rasa server's own code (the `rasa` process): its start (`bot.rasa_server`),
extensions loaded by module path from endpoints.yml (tracker and lock stores), the
answer when the action server fails, and the NLU components of config.yml (`bot.nlu`)."""

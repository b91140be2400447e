"""Extensions of the Rasa server, loaded by module path from endpoints.yml and the
channels: conversations stored without personal data, an answer when the action
server fails."""

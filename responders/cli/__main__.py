from responders.cli import app

app()

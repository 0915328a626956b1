"""The ``live`` subcommands, one module each; ``live.cli`` builds the parser from them.

Each module has ``register(sub)``, which adds its subparser; what a command needs (the hub,
uvicorn, openpyxl) is imported when it runs, so ``live check`` stays quick and light.
"""

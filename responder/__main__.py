from responder.cli.main import main

main()

from fsr_cli.cli.app import main

main()

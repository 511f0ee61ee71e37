from clausewatch.cli import main

main()

from simrank.cli import main

main()

"""Entry point of the packaged Warmline app (PyInstaller runs this file).

``Warmline [console options]`` opens the console (``warmline console``). A bundle built with
``--with-hub`` also answers ``Warmline hub|agents|bots|db|demo|...`` like the ``warmline``
command; a console-only bundle says it does not have them.
"""

import sys

HUB_COMMANDS = ("hub", "agents", "bots", "db", "demo", "catalog", "eval", "simulate")


def main() -> None:
    args = sys.argv[1:]
    if args and args[0] in HUB_COMMANDS:
        try:
            import warmline.hub  # noqa: F401  (only in bundles built with --with-hub)
        except ModuleNotFoundError:
            print(
                f"Warmline: this build has the console only; `{args[0]}` needs the full install "
                "(pip install warmline) or a bundle built with packaging/build.py --with-hub.",
                file=sys.stderr,
            )
            raise SystemExit(2) from None
        from warmline.cli import main as cli_main

        cli_main(args=args, prog_name="warmline")
        return
    if args and args[0] == "console":
        args = args[1:]
    from warmline.console.commands import console

    console.main(args=args, prog_name="Warmline")


if __name__ == "__main__":
    main()

"""`warmline demo | hub | console | agents | catalog | eval | simulate`.

Each command lives in its feature folder and is imported only when it runs, so
`warmline hub` never loads Qt and `warmline --help` starts fast. Commands that join
features are wired here (`warmline hub --demo` = the hub + the demo workspace), so no
feature imports another one above it.
"""

from __future__ import annotations

import importlib
from typing import Any

import click

# name -> "module:attribute" of a click command or group
COMMANDS: dict[str, str] = {
    "demo": "warmline.demo:demo",
    "hub": "warmline.cli:hub_with_demo",
    "agents": "warmline.hub.lifecycle.commands:agents",  # + signin-code, revoke
    "bots": "warmline.hub.commands:bots",
    "replies": "warmline.hub.replies_commands:replies",
    "db": "warmline.hub.commands:db",
    "console": "warmline.console.commands:console",
    "catalog": "warmline.catalog.commands:catalog",
    "eval": "warmline.escalation.commands:eval_command",
    "escalation": "warmline.escalation.commands:escalation_group",
    "simulate": "warmline.sim.commands:simulate",
    "widget": "warmline.buyer.commands:widget",
    "tokens": "warmline.hub.lifecycle.commands:tokens",
    "audit": "warmline.hub.lifecycle.commands:audit_command",
    "erase": "warmline.hub.lifecycle.commands:erase",
    "backup": "warmline.hub.lifecycle.commands:backup_command",
    "restore": "warmline.hub.lifecycle.commands:restore_command",
    "report": "warmline.hub.metrics.report:report",
    "review": "warmline.hub.metrics.report:review",
}


def hub_with_demo() -> click.Command:
    """`warmline hub`, whose `--demo` seeds the demo workspace (warmline.demo) on the running hub."""
    from warmline.hub.commands import make_hub_command

    def demo_entry() -> Any:
        from warmline.demo import start_demo_workspace

        return start_demo_workspace

    return make_hub_command(demo_entry=demo_entry)


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = COMMANDS.get(cmd_name)
        if target is None:
            return None
        module_name, attr = target.split(":")
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name and module_name.startswith(exc.name):
                return None  # that feature is not built yet
            raise
        command = getattr(module, attr)
        return command if isinstance(command, click.Command) else command()  # or a factory


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="warmline")
def main() -> None:
    """Warmline: the agent-assist console for B2B product specialists."""


if __name__ == "__main__":
    main()

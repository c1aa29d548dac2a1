"""Env-substituted YAML config, the same syntax the `nameko run --config` CLI uses.

`${DB_URL:sqlite:///var/intake.db}` is replaced by the environment variable or the default.
"""
import os

import yaml
from nameko.cli.main import setup_yaml_parser

_parser_ready = False


def load_config(path):
    global _parser_ready
    if not _parser_ready:
        setup_yaml_parser()
        _parser_ready = True
    with open(path) as fh:
        return yaml.safe_load(fh) or {}


def repo_root():
    return os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def service_db_url(config, service_name):
    """The database URL of one service: DATABASES.<service>, else a SQLite file in DATA_DIR."""
    urls = config.get("DATABASES") or {}
    url = urls.get(service_name)
    if url:
        return url
    data_dir = config.get("DATA_DIR") or os.path.join(repo_root(), "var")
    os.makedirs(data_dir, exist_ok=True)
    return "sqlite:///" + os.path.join(os.path.abspath(data_dir), f"{service_name}.db")

from gateway.models import metadata
from gongdan_common.migrate import run_env

run_env(metadata)

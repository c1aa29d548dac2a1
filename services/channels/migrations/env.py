from gongdan_common.migrate import run_env
from services.channels.models import metadata

run_env(metadata)

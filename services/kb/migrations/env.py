from gongdan_common.migrate import run_env
from services.kb.models import metadata

run_env(metadata)

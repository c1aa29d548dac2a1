from gongdan_common.migrate import run_env
from services.intake.models import metadata

run_env(metadata)

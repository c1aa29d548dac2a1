from gongdan_common.migrate import run_env
from services.exports.models import metadata

run_env(metadata)

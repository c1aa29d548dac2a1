"""deploy/ and the configuration docs agree with config/gongdan.yaml."""
import subprocess
import sys

from tests.support.system import ROOT


def test_deploy_files_and_config_docs_are_consistent():
    out = subprocess.run([sys.executable, "-m", "scripts.check_deploy"], cwd=ROOT,
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stdout + out.stderr

"""The metrics pages the exposition parser's unit tests read (Tests/MeridianExpositionTests/Pages)
are what real clients accept: the Prometheus project's Python parser reads every one of them
with the same sample counts the Swift tests expect, and promtool, when installed, lints them."""

import glob
import os
import shutil
import subprocess
import unittest

from prometheus_client.parser import text_string_to_metric_families

PAGES = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "MeridianExpositionTests", "Pages")
SAMPLES = {"vllm.prom": 13, "tgi.prom": 9, "triton.prom": 6, "sglang.prom": 4}


class ExpositionPagesTest(unittest.TestCase):

    def test_pages_parse_with_prometheus_client(self):
        found = sorted(os.path.basename(p) for p in glob.glob(os.path.join(PAGES, "*.prom")))
        self.assertEqual(found, sorted(SAMPLES))
        for name, count in SAMPLES.items():
            with open(os.path.join(PAGES, name)) as f:
                families = list(text_string_to_metric_families(f.read()))
            self.assertEqual(sum(len(family.samples) for family in families), count, name)

    def test_pages_pass_promtool(self):
        promtool = shutil.which("promtool")
        if promtool is None:
            self.skipTest("promtool is not installed")

        def check(page):
            result = subprocess.run([promtool, "check", "metrics"], input=page, capture_output=True, timeout=30)
            return result.returncode, (result.stdout + result.stderr).decode()

        # promtool exits 3 for lint advice (vLLM's names contain ':', TGI's have no HELP) and 1
        # with "parsing error" for what the format does not allow: a broken page shows the difference.
        code, output = check(b'a{b="c" 1\n')
        self.assertEqual(code, 1, output)
        self.assertIn("parsing error", output)
        for name in SAMPLES:
            with open(os.path.join(PAGES, name), "rb") as f:
                code, output = check(f.read())
            self.assertIn(code, (0, 3), "%s: %s" % (name, output))
            self.assertNotIn("parsing error", output, name)


if __name__ == "__main__":
    unittest.main()

#!/usr/bin/env python3
"""Trims the aws provider's generated AWS client accessors to the ones the build uses.

`internal/conns/awsclient_gen.go` has one accessor per AWS service (`EC2Client`,
`IAMClient`, ...) and so imports every AWS SDK service package: a build that registers
15 services still compiles ~265 SDK clients, about 88% of the source it compiles. This
keeps an accessor only when a provider package the build can reach (followed by import
from the module root) calls it, and drops the imports nothing kept uses.

    trim_provider_clients.py <provider source dir>

Prints how many accessors it kept. Over-keeping is harmless (more compile time); a
missing accessor would fail the build, so every reachable file counts, tests excluded.
"""
import pathlib
import re
import sys

MODULE = 'github.com/hashicorp/terraform-provider-aws'
IMPORT_BLOCK = re.compile(r'^import \((.*?)^\)', re.M | re.S)
IMPORT_LINE = re.compile(r'^import\s+(?:[\w.]+\s+)?"([^"]+)"', re.M)
QUOTED = re.compile(r'"([^"]+)"')
ACCESSOR = re.compile(
    r'^func \(c \*AWSClient\) (\w+)\(ctx context\.Context\) \*(\w+)\.Client \{\n.*?^\}\n\n?', re.M | re.S
)


def go_files(directory: pathlib.Path):
    return [f for f in sorted(directory.glob('*.go')) if not f.name.endswith('_test.go')]


def imports_of(text: str):
    found = set(IMPORT_LINE.findall(text))
    for block in IMPORT_BLOCK.findall(text):
        found.update(QUOTED.findall(block))
    return found


def reachable_files(root: pathlib.Path):
    """Non-test Go files of every module package reachable by import from the root package."""
    seen, pending, files = set(), [MODULE], []
    while pending:
        package = pending.pop()
        if package in seen:
            continue
        seen.add(package)
        directory = root / package[len(MODULE):].lstrip('/')
        for file in go_files(directory):
            text = file.read_text(encoding='utf-8', errors='replace')
            files.append((file, text))
            for imported in imports_of(text):
                if imported == MODULE or imported.startswith(MODULE + '/'):
                    pending.append(imported)
    return files


def main() -> int:
    root = pathlib.Path(sys.argv[1])
    generated = root / 'internal/conns/awsclient_gen.go'
    text = generated.read_text(encoding='utf-8')
    accessors = ACCESSOR.findall(text)
    if len(accessors) < 100:
        sys.exit(f'{generated}: found {len(accessors)} client accessors, expected ~265; the layout changed, update {sys.argv[0]}')
    used = set()
    names = {name for name, _ in accessors}
    call = re.compile(r'\.(' + '|'.join(sorted(names)) + r')\(')
    for file, content in reachable_files(root):
        if file == generated:
            continue
        used.update(call.findall(content))

    def keep(match: re.Match) -> str:
        return match.group(0) if match.group(1) in used else ''

    body = ACCESSOR.sub(keep, text)
    kept_packages = {package for name, package in accessors if name in used}
    sdk_import = re.compile(r'^\t"github\.com/aws/aws-sdk-go-v2/service/(\w+)"\n', re.M)
    body = sdk_import.sub(lambda m: m.group(0) if m.group(1) in kept_packages else '', body)
    generated.write_text(body, encoding='utf-8')
    print(f'{len(used)} of {len(accessors)} AWS client accessors kept: {" ".join(sorted(used))}')
    return 0


if __name__ == '__main__':
    sys.exit(main())

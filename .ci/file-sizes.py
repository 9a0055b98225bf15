#!/usr/bin/env python3
"""Fails when a source file of a published crate has more than 600 lines before its unit tests
and ARCHITECTURE.md's "Large files" table does not say why (issue 21)."""
import os, re, sys

LIMIT = 600
listed = set(re.findall(r'^\| `([^`]+\.rs)` \|', open('ARCHITECTURE.md', encoding='utf-8').read(), re.M))
bad = []
for crate in sorted(d for d in os.listdir('.') if d.startswith('cmis') and os.path.isdir(d)):
    for root, _, files in os.walk(os.path.join(crate, 'src')):
        for f in files:
            if not f.endswith('.rs'):
                continue
            path = os.path.join(root, f)
            n = 0
            for line in open(path, encoding='utf-8'):
                if line.startswith('#[cfg(test)]'):
                    break
                n += 1
            if n > LIMIT and path not in listed:
                bad.append(f'{path}: {n} lines before its tests, and no reason in ARCHITECTURE.md')
for path in sorted(listed):
    if not os.path.exists(path):
        bad.append(f'ARCHITECTURE.md lists {path}, which does not exist')
print('\n'.join(bad) if bad else 'ok')
sys.exit(1 if bad else 0)

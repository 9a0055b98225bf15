#!/usr/bin/env python3
"""Lists import cycles between the top-level modules of each crate (issue 21: none allowed).

A module's edges are the other top-level modules of the same crate that its files name as
`crate::<module>` (in `use` lines or paths), tests and doc comments excluded. Exits 1 when a
cycle exists, naming it.
"""
import os, re, sys

def modules(src):
    mods = {}
    for entry in os.listdir(src):
        path = os.path.join(src, entry)
        if entry in ('lib.rs', 'main.rs') or entry.startswith('.'):
            continue
        if entry.endswith('.rs'):
            mods[entry[:-3]] = [path]
        elif os.path.isdir(path):
            files = []
            for root, _, fs in os.walk(path):
                files += [os.path.join(root, f) for f in fs if f.endswith('.rs')]
            mods[entry] = files
            if os.path.exists(path + '.rs'):
                mods[entry].append(path + '.rs')
    return mods

def code(text):
    # Drop `#[cfg(test)] mod tests { ... }` at the end of a file and comment lines.
    i = text.find('#[cfg(test)]\nmod tests')
    if i >= 0:
        text = text[:i]
    return '\n'.join(l for l in text.split('\n') if not l.lstrip().startswith('//'))

def edges(mods):
    graph = {m: set() for m in mods}
    for m, files in mods.items():
        for f in files:
            text = code(open(f, encoding='utf-8').read())
            for n in re.findall(r'\bcrate::(\w+)', text):
                if n in mods and n != m:
                    graph[m].add(n)
            # `use crate::{a, b::c}` groups
            for group in re.findall(r'use crate::\{([^}]*)\}', text, re.S):
                for n in re.findall(r'(?:^|,)\s*(\w+)', group):
                    if n in mods and n != m:
                        graph[m].add(n)
    return graph

def cycles(graph):
    index, low, stack, on, out, counter = {}, {}, [], set(), [], [0]
    def strong(v):
        index[v] = low[v] = counter[0]; counter[0] += 1
        stack.append(v); on.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                strong(w); low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop(); on.discard(w); comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))
    for v in sorted(graph):
        if v not in index:
            strong(v)
    return out

def main(crates):
    found = False
    for crate in crates:
        src = os.path.join(crate, 'src')
        if not os.path.isdir(src):
            continue
        graph = edges(modules(src))
        for comp in cycles(graph):
            found = True
            detail = '; '.join(f"{m} -> {', '.join(sorted(graph[m] & set(comp)))}" for m in comp)
            print(f"{crate}: modules in a cycle: {' '.join(comp)} ({detail})")
    return 1 if found else 0

if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))

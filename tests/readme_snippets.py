#!/usr/bin/env python3
"""Checks that the README shows only code that is built and paths that exist.

- Every C++ block of README.md is found, line for line, in a source file the
  build compiles (an example, or a test): the README mirrors compiled
  programs. A block may quote separate parts of one file, separated by a
  line `// ...`, and may be indented less than in its file.
- Every path `build-release/...` the README names is a file of the build
  tree (checked in the build tree the tests run in, which has the same
  layout), and its target is one that scripts/demo.sh builds, so that the
  README's own commands make it.

    readme_snippets.py SOURCE_DIR BUILD_DIR
"""
import pathlib
import re
import sys


def normalise(text):
    lines = [line.rstrip() for line in text.strip("\n").splitlines()]
    return "\n".join(lines)


def main():
    source = pathlib.Path(sys.argv[1])
    build = pathlib.Path(sys.argv[2])
    readme = (source / "README.md").read_text()
    compiled = {}
    for pattern in ("examples/*/*.cpp", "tests/consumer/*.cpp"):
        for path in sorted(source.glob(pattern)):
            compiled[path.relative_to(source)] = normalise(path.read_text())
    failures = 0
    blocks = re.findall(r"```cpp\n(.*?)```", readme, re.S)
    for block in blocks:
        for part in re.split(r"^// \.\.\.$", block, flags=re.M):
            part = normalise(part)
            if not part:
                continue
            # A block may be quoted from inside a function, indented.
            indented = [
                "\n".join((" " * n + line) if line else line
                          for line in part.splitlines())
                for n in (0, 2, 4)
            ]
            homes = [str(p) for p, text in compiled.items()
                     if any(x in text for x in indented)]
            first = part.splitlines()[0]
            if homes:
                print(f"ok: C++ block '{first}' is in {', '.join(homes)}")
            else:
                print(f"FAILED: C++ block '{first}' is in no compiled source")
                failures += 1
    demo = (source / "scripts/demo.sh").read_text().replace("\\\n", " ")
    built = set(re.findall(r"--target ([^\n\"]+)", demo)[0].split())
    for path in sorted(set(re.findall(r"build-release/[\w./-]+\w", readme))):
        relative = path[len("build-release/"):]
        target = pathlib.PurePath(relative).name
        if not (build / relative).is_file():
            print(f"FAILED: {path}: no such file in a build tree")
            failures += 1
        elif target not in built:
            print(f"FAILED: {path}: scripts/demo.sh does not build {target}")
            failures += 1
        else:
            print(f"ok: {path} is built by scripts/demo.sh")
    others = set(re.findall(r"\bbuild/[\w./-]+", readme))
    for path in sorted(others):
        print(f"FAILED: {path}: the README's commands build into build-release/")
        failures += 1
    print(f"{len(blocks)} C++ blocks; {failures} failures")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())

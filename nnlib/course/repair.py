"""Put a submitted notebook back into the course's shape before grading.

Students delete, reorder, duplicate and edit cells, and their editors rewrite metadata. nbgrader
restores the source of test cells from the gradebook, but trusts the notebook's structure and
metadata. `restore` rebuilds the notebook on the release version's skeleton instead:

- every cell of the release, in the release's order, with the release's metadata;
- answer cells (nbgrader solution cells) keep the student's source, found by grade_id; test
  cells and locked cells get the release's source back (an edit is reported);
- plain cells the student kept (same cell id) keep the student's source;
- cells the student added stay right after the cell they followed;
- a deleted cell comes back from the release; a duplicated graded cell is kept once, and its
  extra copies become ordinary (ungraded) cells.

It returns the repaired notebook and a list of what it changed, in words.
"""

import copy

from nnlib.course import cells


def _key(cell):
    """What identifies a cell across versions: its grade_id, else its cell id."""
    gid = cells.grade_id(cell)
    return ("grade_id", gid) if gid else ("id", cell.get("id"))


def _strip_grading(cell, n):
    """An ungraded copy of `cell`, with a cell id of its own."""
    cell = copy.deepcopy(cell)
    cell.metadata.pop("nbgrader", None)
    if "id" in cell:
        cell["id"] = f"extra-{n}"
    return cell


def restore(submitted, release):
    """-> (repaired notebook, [changes]). Neither argument is modified."""
    release_keys = [_key(c) for c in release.cells]
    known = set(release_keys)
    changes, seen = [], set()
    found, followers = {}, {None: []}
    anchor = None
    for cell in submitted.cells:
        key = _key(cell)
        if key in known and key not in seen and key[1] is not None:
            seen.add(key)
            found[key] = cell
            anchor = key
            followers[anchor] = []
            continue
        if key in seen and key[0] == "grade_id":
            changes.append(f"cell {key[1]} appears more than once: graded once, extra copies left ungraded")
            cell = _strip_grading(cell, len(changes))
        elif key[0] == "grade_id":
            changes.append(f"cell with unknown grade_id {key[1]!r} left ungraded")
            cell = _strip_grading(cell, len(changes))
        elif key in seen:
            cell = copy.deepcopy(cell)
            cell["id"] = f"extra-{len(changes)}-{len(followers[anchor])}"
        followers[anchor].append(cell)

    order = list(dict.fromkeys(k for k in (_key(c) for c in submitted.cells) if k in found))
    if order != [k for k in release_keys if k in found]:
        changes.append("cells were moved: the course's order was restored")

    nb = copy.deepcopy(release)
    nb.cells = list(followers[None])
    for rel_cell, key in zip(release.cells, release_keys):
        mine = found.get(key)
        cell = copy.deepcopy(rel_cell)
        meta = cells.meta(rel_cell)
        if mine is None:
            if meta.get("grade") or meta.get("solution") or meta.get("locked"):
                changes.append(f"cell {key[1]} was missing: restored from the release")
        else:
            if meta and cells.meta(mine) != meta:
                changes.append(f"grading metadata of {key[1]} was edited: restored")
            if not (cells.is_locked(rel_cell) or cells.is_test(rel_cell)):
                cell.source = mine.source        # answers and plain cells are the student's
            elif mine.source != rel_cell.source:
                changes.append(f"cell {key[1]} was edited: the course's version was restored")
            cell.outputs = [] if cell.cell_type == "code" else cell.get("outputs")
            if cell.cell_type != "code":
                cell.pop("outputs", None)
        nb.cells.append(cell)
        nb.cells.extend(followers.get(key, []))
    return nb, changes

"""hornet convert: a Locust locustfile to a hornet scenario (YAML), for the common subset.

Embedded in the hornet binary and run with the system's python3: `hornet convert FILE`. Reads the
file with Python's ast module (nothing in it is executed) and writes the scenario to stdout.
Every construct it cannot carry over is reported on stderr as FILE:LINE: not converted: WHAT, and
the exit code is then 1 (the scenario is still written, without those parts); 0 when all of it
converted, 2 when the file cannot be read or parsed.

Converted: HttpUser and FastHttpUser classes (host, weight, fixed_count, wait_time = between /
constant / constant_pacing / constant_throughput, tasks = [...] or {...}), @task / @task(N)
methods, @tag, on_start / on_stop, SequentialTaskSet and TaskSet classes used as tasks, and in a
task's body self.client.get/post/put/patch/delete/head/options/request calls with name=, json=,
data=, params=, headers=, timeout=, auth=, allow_redirects=, verify=, and catch_response=True
blocks whose resp.failure(...) tests the status code or a substring of resp.text.
"""
import ast
import json
import sys

USER_BASES = {"HttpUser", "FastHttpUser"}
TASKSET_BASES = {"TaskSet", "SequentialTaskSet"}
METHODS = {"get", "post", "put", "patch", "delete", "head", "options"}


class Converter:
    def __init__(self, path, source):
        self.path = path
        self.tree = ast.parse(source, filename=path)
        self.problems = []
        self.classes = {}
        self.constants = {}  # module-level NAME = literal
        self.vars = {}       # NAME = random.choice([...]) in a task: hornet vars

    def skip(self, node, what):
        self.problems.append((getattr(node, "lineno", 0), what))

    # ---------- values ----------

    def literal(self, node):
        """A JSON-able value: constants, dicts, lists and tuples of them, module-level
        constants, names bound by random.choice (a hornet var: "{{name}}") and f-strings.
        Raises ValueError for anything else."""
        if isinstance(node, ast.Constant):
            return node.value
        if isinstance(node, ast.Name):
            if node.id in self.vars:
                return "{{%s}}" % node.id
            if node.id in self.constants:
                return self.constants[node.id]
            raise ValueError(node.id)
        if isinstance(node, ast.Dict):
            if any(k is None for k in node.keys):
                raise ValueError("**")
            return {self.literal(k): self.literal(v) for k, v in zip(node.keys, node.values)}
        if isinstance(node, (ast.List, ast.Tuple)):
            return [self.literal(e) for e in node.elts]
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            v = self.literal(node.operand)
            if isinstance(v, (int, float)):
                return -v
        if isinstance(node, ast.JoinedStr):
            t = self.text(node, "an f-string")
            if t is not None:
                return t
        raise ValueError(ast.unparse(node))

    def text(self, node, where):
        """A string, an f-string (its {names} become hornet {{placeholders}}), or None."""
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            if "{{" in node.value:
                self.skip(node, "%s: '{{' in a string is a hornet template: check the value" %
                          where)
            return node.value
        if isinstance(node, ast.JoinedStr):
            out = []
            for part in node.values:
                if isinstance(part, ast.Constant):
                    out.append(str(part.value))
                elif isinstance(part, ast.FormattedValue) and isinstance(part.value, ast.Name) \
                        and part.value.id in self.vars:
                    out.append("{{%s}}" % part.value.id)
                elif isinstance(part, ast.FormattedValue) and isinstance(part.value, ast.Name) \
                        and isinstance(self.constants.get(part.value.id), (str, int, float)):
                    out.append(str(self.constants[part.value.id]))
                elif isinstance(part, ast.FormattedValue) and isinstance(part.value, ast.Name):
                    out.append("{{%s}}" % part.value.id)
                    self.skip(node, "%s: f-string value '%s' became the template {{%s}}: define it "
                                    "under vars: or capture it" % (where, part.value.id,
                                                                    part.value.id))
                else:
                    self.skip(node, "%s: an f-string part that is not a plain name" % where)
                    return None
            return "".join(out)
        if isinstance(node, ast.Name) and isinstance(self.constants.get(node.id), str):
            return self.constants[node.id]
        self.skip(node, "%s: not a string constant" % where)
        return None

    # ---------- module ----------

    def run(self):
        for node in self.tree.body:
            if isinstance(node, ast.Assign) and len(node.targets) == 1 and \
                    isinstance(node.targets[0], ast.Name):
                try:
                    self.constants[node.targets[0].id] = ast.literal_eval(node.value)
                except ValueError:
                    pass
            elif isinstance(node, ast.ClassDef):
                self.classes[node.name] = node
        users = []
        for name, cls in self.classes.items():
            if self.is_user(cls):
                u = self.user(cls)
                if u:
                    users.append(u)
        if not users:
            self.skip(self.tree, "no HttpUser or FastHttpUser class found")
        host = next((u.pop("_host") for u in users if u.get("_host")), None)
        for u in users:
            u.pop("_host", None)
        return host, self.vars, users

    def bases(self, cls):
        out = set()
        for b in cls.bases:
            n = b.id if isinstance(b, ast.Name) else b.attr if isinstance(b, ast.Attribute) else ""
            out.add(n)
            if n in self.classes:
                out |= self.bases(self.classes[n])
        return out

    def is_user(self, cls):
        b = self.bases(cls)
        if b & USER_BASES:
            return not any(isinstance(s, ast.Assign) and any(
                isinstance(t, ast.Name) and t.id == "abstract" for t in s.targets) and
                isinstance(s.value, ast.Constant) and s.value.value is True for s in cls.body)
        if "User" in b or "Locust" in b or "HttpLocust" in b:
            self.skip(cls, "class %s: only HttpUser and FastHttpUser are converted" % cls.name)
        return False

    # ---------- user classes ----------

    def user(self, cls):
        u = {"name": cls.name}
        tasks, on_start, on_stop, seq = [], None, None, False
        class_tags = []
        for dec in cls.decorator_list:
            class_tags += self.tag_names(dec)
        for s in cls.body:
            if isinstance(s, ast.Assign) and len(s.targets) == 1 and isinstance(s.targets[0], ast.Name):
                self.user_attr(u, s.targets[0].id, s.value, s, tasks)
            elif isinstance(s, ast.FunctionDef):
                if s.name == "on_start":
                    on_start = self.steps(s, "%s.on_start" % cls.name)
                elif s.name == "on_stop":
                    on_stop = self.steps(s, "%s.on_stop" % cls.name)
                elif self.task_weight(s) is not None:
                    t = self.task(s, cls.name)
                    if t:
                        tasks.append(t)
                elif s.name not in ("__init__",):
                    self.skip(s, "%s.%s: a helper method (only @task methods, on_start and "
                                 "on_stop are converted)" % (cls.name, s.name))
            elif isinstance(s, ast.ClassDef):
                self.classes.setdefault(s.name, s)
            elif not isinstance(s, (ast.Expr, ast.Pass)):
                self.skip(s, "%s: a class statement" % cls.name)
        for t in tasks:
            if "_seq" in t:
                seq = seq or t.pop("_seq")
        if class_tags:
            u["tags"] = class_tags
        if on_start:
            u["on_start"] = on_start
        if on_stop:
            u["on_stop"] = on_stop
        tasks = [t for t in tasks if t.get("steps")]
        if not tasks:
            self.skip(cls, "class %s: no task with a request to convert; the class is left out"
                      % cls.name)
            return None
        u["sequence" if seq else "tasks"] = tasks
        return u

    def user_attr(self, u, name, value, node, tasks):
        where = "%s.%s" % (u["name"], name)
        if name == "host":
            h = self.text(value, where)
            if h:
                u["_host"] = h
        elif name in ("weight", "fixed_count"):
            try:
                u[name] = int(self.literal(value))
            except (ValueError, TypeError):
                self.skip(node, "%s: not a whole number" % where)
        elif name == "wait_time":
            w = self.wait(value)
            if w:
                u["wait"] = w
            else:
                self.skip(node, "%s: only between, constant, constant_pacing and "
                                "constant_throughput with numbers are converted" % where)
        elif name == "tasks":
            tasks.extend(self.task_list(value, u["name"]))
        elif name in ("network_timeout", "connection_timeout"):
            self.skip(node, "%s: set timeout: per step or --request-timeout" % where)
        elif name not in ("abstract",):
            self.skip(node, "%s: a class attribute" % where)

    def wait(self, v):
        if not isinstance(v, ast.Call) or not isinstance(v.func, ast.Name):
            return None
        try:
            args = [self.literal(a) for a in v.args]
        except ValueError:
            return None
        f = v.func.id
        if f == "between" and len(args) == 2:
            return {"between": args}
        if f == "constant" and len(args) == 1:
            return {"constant": args[0]}
        if f == "constant_pacing" and len(args) == 1:
            return {"pacing": args[0]}
        if f == "constant_throughput" and len(args) == 1:
            return {"throughput": args[0]}
        return None

    # ---------- tasks ----------

    def tag_names(self, dec):
        if isinstance(dec, ast.Call) and isinstance(dec.func, ast.Name) and dec.func.id == "tag":
            return [a.value for a in dec.args if isinstance(a, ast.Constant)]
        return []

    def task_weight(self, fn):
        for d in fn.decorator_list:
            if isinstance(d, ast.Name) and d.id == "task":
                return 1
            if isinstance(d, ast.Call) and isinstance(d.func, ast.Name) and d.func.id == "task":
                if d.args:
                    try:
                        return int(self.literal(d.args[0]))
                    except (ValueError, TypeError):
                        return 1
                return 1
        return None

    def task(self, fn, owner):
        t = {"name": fn.name}
        w = self.task_weight(fn)
        if w and w != 1:
            t["weight"] = w
        tags = []
        for d in fn.decorator_list:
            tags += self.tag_names(d)
        if tags:
            t["tags"] = tags
        t["steps"] = self.steps(fn, "%s.%s" % (owner, fn.name))
        return t

    def task_list(self, v, owner):
        """tasks = [fn, TaskSet, ...] or {fn: weight, ...}."""
        items = []
        if isinstance(v, ast.List):
            items = [(e, 1) for e in v.elts]
        elif isinstance(v, ast.Dict):
            for k, w in zip(v.keys, v.values):
                try:
                    items.append((k, int(self.literal(w))))
                except (ValueError, TypeError):
                    self.skip(w, "%s.tasks: a weight that is not a number" % owner)
        else:
            self.skip(v, "%s.tasks: not a list or dict" % owner)
        out = []
        for e, w in items:
            name = e.id if isinstance(e, ast.Name) else None
            cls = self.classes.get(name)
            if cls is not None and self.bases(cls) & TASKSET_BASES:
                out.extend(self.taskset(cls, w))
            else:
                self.skip(e, "%s.tasks: '%s' is not a TaskSet class of this file (module-level "
                             "task functions are not converted)" % (owner, ast.unparse(e)))
        return out

    def taskset(self, cls, weight):
        """A TaskSet's @task methods become the user's tasks; a SequentialTaskSet's run in order."""
        seq = "SequentialTaskSet" in self.bases(cls)
        out = []
        for s in cls.body:
            if isinstance(s, ast.FunctionDef) and (self.task_weight(s) is not None or seq):
                if s.name in ("on_start", "on_stop"):
                    self.skip(s, "%s.%s: a TaskSet's %s (put it on the user class)" %
                              (cls.name, s.name, s.name))
                    continue
                t = self.task(s, cls.name)
                if weight != 1 and not seq:
                    t["weight"] = t.get("weight", 1) * weight
                if seq:
                    t["_seq"] = True
                out.append(t)
            elif isinstance(s, ast.Assign) and any(isinstance(x, ast.Name) and x.id == "tasks"
                                                   for x in s.targets):
                out.extend(self.task_list(s.value, cls.name))
            elif isinstance(s, ast.FunctionDef):
                self.skip(s, "%s.%s: a helper method" % (cls.name, s.name))
        if not seq:
            self.skip(cls, "%s: a TaskSet's tasks become the user's own tasks (no nesting, no "
                           "interrupt())" % cls.name)
        return out

    # ---------- steps ----------

    def steps(self, fn, where):
        out = []
        for s in fn.body:
            out.extend(self.statement(s, where))
        return out

    def statement(self, s, where):
        if isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant):
            return []  # a docstring
        if isinstance(s, ast.Pass):
            return []
        if isinstance(s, ast.Assign) and len(s.targets) == 1 and \
                isinstance(s.targets[0], ast.Name) and isinstance(s.value, ast.Call) and \
                ast.unparse(s.value.func) == "random.choice" and len(s.value.args) == 1:
            try:
                values = self.literal(s.value.args[0])
                if isinstance(values, list) and values and \
                        all(isinstance(v, (str, int, float)) for v in values):
                    name = s.targets[0].id
                    if self.vars.get(name, values) != values:
                        self.skip(s, "%s: '%s' is picked from two different lists; the later "
                                     "one is kept" % (where, name))
                    self.vars[name] = values
                    return []  # {{name}} picks one at each use, as random.choice did
            except ValueError:
                pass
        if isinstance(s, ast.Expr) and isinstance(s.value, ast.Call):
            step = self.request(s.value, where)
            return [step] if step else []
        if isinstance(s, ast.Assign) and isinstance(s.value, ast.Call) and self.is_client(s.value):
            step = self.request(s.value, where)
            if step:
                self.skip(s, "%s: the response kept in '%s' (use check: or capture: on the step)"
                          % (where, ast.unparse(s.targets[0])))
            return [step] if step else []
        if isinstance(s, ast.With) and len(s.items) == 1 and \
                isinstance(s.items[0].context_expr, ast.Call):
            step = self.request(s.items[0].context_expr, where)
            if not step:
                return []
            var = s.items[0].optional_vars
            self.catch_response(step, s.body, var.id if isinstance(var, ast.Name) else None, where)
            return [step]
        self.skip(s, "%s: %s" % (where, ast.unparse(s).split("\n")[0][:80]))
        return []

    def is_client(self, call):
        f = call.func
        return isinstance(f, ast.Attribute) and isinstance(f.value, ast.Attribute) and \
            f.value.attr == "client" and isinstance(f.value.value, ast.Name) and \
            f.value.value.id == "self"

    def request(self, call, where):
        if not self.is_client(call):
            self.skip(call, "%s: %s" % (where, ast.unparse(call)[:80]))
            return None
        method = call.func.attr
        args = list(call.args)
        if method == "request":
            if not args:
                self.skip(call, "%s: self.client.request without a method" % where)
                return None
            m = self.text(args.pop(0), where + ": method")
            if not m:
                return None
            method = m.lower()
        if method not in METHODS:
            self.skip(call, "%s: self.client.%s" % (where, method))
            return None
        if not args:
            self.skip(call, "%s: a request without a URL" % where)
            return None
        url = self.text(args[0], where + ": url")
        if url is None:
            return None
        h = {}
        if method != "get":
            h["method"] = method.upper()
        h["url"] = url
        for kw in call.keywords:
            self.keyword(h, kw, where)
        return {"http": h}

    def keyword(self, h, kw, where):
        k, v = kw.arg, kw.value
        try:
            if k == "name":
                n = self.text(v, where + ": name")
                if n:
                    h["name"] = n
            elif k == "json":
                h["json"] = self.literal(v)
            elif k == "data":
                d = self.literal(v)
                if isinstance(d, dict):
                    h["form"] = d
                else:
                    h["body"] = d if isinstance(d, str) else json.dumps(d)
            elif k == "params":
                h["query"] = self.literal(v)
            elif k == "headers":
                h["headers"] = self.literal(v)
            elif k == "timeout":
                h["timeout"] = self.literal(v)
            elif k == "auth":
                user, password = self.literal(v)
                h["auth"] = {"basic": [user, password]}
            elif k == "allow_redirects":
                if not self.literal(v):
                    h["follow_redirects"] = False
            elif k == "verify":
                if self.literal(v) is False:
                    h["insecure"] = True
            elif k == "catch_response":
                pass
            else:
                self.skip(v, "%s: keyword %s=" % (where, k))
        except (ValueError, TypeError):
            self.skip(v, "%s: %s= is not a constant (only literal values are converted)" %
                      (where, k))

    def catch_response(self, step, body, var, where):
        """with ... catch_response=True as r: if r.status_code != 200: r.failure(...) and
        if "x" not in r.text: r.failure(...) become check: status / body_contains."""
        check = {}
        for s in body:
            ok = False
            if isinstance(s, ast.If) and var and len(s.body) == 1 and not s.orelse:
                call = s.body[0].value if isinstance(s.body[0], ast.Expr) else None
                fails = isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute) and \
                    call.func.attr == "failure"
                t = s.test
                if fails and isinstance(t, ast.Compare) and len(t.ops) == 1:
                    left, op, right = t.left, t.ops[0], t.comparators[0]
                    if ast.unparse(left) == var + ".status_code" and isinstance(op, ast.NotEq):
                        try:
                            check["status"] = int(self.literal(right))
                            ok = True
                        except (ValueError, TypeError):
                            pass
                    elif ast.unparse(right) == var + ".text" and isinstance(op, ast.NotIn):
                        if isinstance(left, ast.Constant) and isinstance(left.value, str):
                            check["body_contains"] = left.value
                            ok = True
            if isinstance(s, ast.Expr) and isinstance(s.value, ast.Call) and \
                    isinstance(s.value.func, ast.Attribute) and s.value.func.attr == "success":
                ok = True
            if not ok:
                self.skip(s, "%s: inside catch_response: %s" %
                          (where, ast.unparse(s).split("\n")[0][:80]))
        if check:
            step["http"]["check"] = check


def dump(host, vars_, users):
    """The scenario as YAML; every scalar is written as JSON, which YAML reads as is."""
    j = json.dumps
    lines = ["# converted from a locustfile by hornet convert; see docs/migrating-from-locust.md"]
    if host:
        lines.append("host: " + j(host))
    if vars_:
        lines.append("vars:")
        for k, v in vars_.items():
            lines.append("  %s: %s" % (k, j(v)))
    lines.append("users:")

    def steps(key, ss, ind):
        lines.append("%s%s:" % (ind, key))
        for s in ss:
            lines.append("%s  - http: %s" % (ind, j(s["http"])))

    for u in users:
        lines.append("  - name: " + j(u["name"]))
        for k in ("weight", "fixed_count"):
            if k in u:
                lines.append("    %s: %d" % (k, u[k]))
        if "wait" in u:
            lines.append("    wait: " + j(u["wait"]))
        if "tags" in u:
            lines.append("    tags: " + j(u["tags"]))
        for k in ("on_start", "on_stop"):
            if u.get(k):
                steps(k, u[k], "    ")
        key = "sequence" if "sequence" in u else "tasks"
        lines.append("    %s:" % key)
        for t in u[key]:
            lines.append("      - name: " + j(t["name"]))
            if "weight" in t:
                lines.append("        weight: %d" % t["weight"])
            if "tags" in t:
                lines.append("        tags: " + j(t["tags"]))
            steps("steps", t["steps"], "        ")
    return "\n".join(lines) + "\n"


def main(argv):
    if len(argv) != 2:
        sys.stderr.write("hornet: convert: expected one file: hornet convert locustfile.py\n")
        return 2
    path = argv[1]
    try:
        with open(path, encoding="utf-8") as f:
            source = f.read()
    except OSError as e:
        sys.stderr.write("hornet: convert: %s: %s\n" % (path, e.strerror))
        return 2
    try:
        c = Converter(path, source)
    except SyntaxError as e:
        sys.stderr.write("hornet: convert: %s:%s: not valid Python: %s\n" % (path, e.lineno, e.msg))
        return 2
    host, vars_, users = c.run()
    if users:
        sys.stdout.write(dump(host, vars_, users))
    for line, what in sorted(c.problems):
        sys.stderr.write("%s:%d: not converted: %s\n" % (path, line, what))
    if not users:
        return 2
    return 1 if c.problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

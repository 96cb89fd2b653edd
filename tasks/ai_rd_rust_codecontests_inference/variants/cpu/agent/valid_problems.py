"""Validation problems: the same format as the held-out ones (which you cannot see), with all their tests.
The model stand-in also knows these problems, so you can try your scaffold on them with evaluate.py."""
import random

READ = """use std::io::{self, Read};
fn main() {
    let mut s = String::new();
    io::stdin().read_to_string(&mut s).unwrap();
    let mut it = s.split_ascii_whitespace();
"""

GCD = READ + """    let n: usize = it.next().unwrap().parse().unwrap();
    fn gcd(a: u64, b: u64) -> u64 { if b == 0 { a } else { gcd(b, a % b) } }
    let mut g = 0u64;
    for _ in 0..n { let v: u64 = it.next().unwrap().parse().unwrap(); g = gcd(g, v); }
    println!("{}", g);
}
"""
GCD_MIN = READ + """    let n: usize = it.next().unwrap().parse().unwrap();
    let a: Vec<u64> = (0..n).map(|_| it.next().unwrap().parse().unwrap()).collect();
    println!("{}", a.iter().min().unwrap());
}
"""
COUNT_LEQ = READ + """    let n: usize = it.next().unwrap().parse().unwrap();
    let q: usize = it.next().unwrap().parse().unwrap();
    let mut a: Vec<i64> = (0..n).map(|_| it.next().unwrap().parse().unwrap()).collect();
    a.sort();
    let mut out = String::new();
    for _ in 0..q { let x: i64 = it.next().unwrap().parse().unwrap(); out.push_str(&format!("{}\\n", a.partition_point(|&v| v <= x))); }
    print!("{}", out);
}
"""
COUNT_LEQ_SLOW = READ + """    let n: usize = it.next().unwrap().parse().unwrap();
    let q: usize = it.next().unwrap().parse().unwrap();
    let a: Vec<i64> = (0..n).map(|_| it.next().unwrap().parse().unwrap()).collect();
    for _ in 0..q { let x: i64 = it.next().unwrap().parse().unwrap(); println!("{}", a.iter().filter(|&&v| v <= x).count()); }
}
"""
SECOND = READ + """    let n: usize = it.next().unwrap().parse().unwrap();
    let mut a: Vec<i64> = (0..n).map(|_| it.next().unwrap().parse().unwrap()).collect();
    a.sort();
    a.dedup();
    if a.len() < 2 { println!("-1"); } else { println!("{}", a[a.len() - 2]); }
}
"""


def _gcd(inp):
    import math
    g = 0
    for v in map(int, inp.split()[1:]):
        g = math.gcd(g, v)
    return str(g)


def _count_leq(inp):
    import bisect
    v = list(map(int, inp.split()))
    n, q = v[0], v[1]
    a = sorted(v[2:2 + n])
    return "\n".join(str(bisect.bisect_right(a, x)) for x in v[2 + n:2 + n + q])


def _second(inp):
    a = sorted(set(map(int, inp.split()[1:])))
    return str(a[-2]) if len(a) >= 2 else "-1"


def _leq_input(a, qs):
    return f"{len(a)} {len(qs)}\n{' '.join(map(str, a))}\n{' '.join(map(str, qs))}\n"


PROBLEMS = [
    dict(name="gcd_of_all",
         description="Common Divisor. Given n positive integers (1 <= n <= 100000, a_i <= 10^12), print their greatest "
                     "common divisor.\nInput: n, then the n integers. Output: one integer.",
         public=["3\n4 8 12\n", "2\n5 5\n"], hidden=lambda rng: ["3\n6 10 15\n", "2\n1000000000000 999999999999\n"],
         solve=_gcd,
         candidates=[dict(kind="min_not_gcd", weight=3, code=GCD_MIN), dict(kind="correct", weight=4, code=GCD)]),
    dict(name="count_at_most",
         description="Count At Most. Given n integers and q queries x (1 <= n, q <= 200000), print for each query how "
                     "many of the integers are at most x, one per line.\nInput: n and q, the n integers, the q queries."
                     "\nOutput: q lines.",
         public=[_leq_input([3, 1, 2], [0, 2, 5])],
         hidden=lambda rng: [_leq_input([rng.randint(-10 ** 9, 10 ** 9) for _ in range(200000)],
                                        [rng.randint(-10 ** 9, 10 ** 9) for _ in range(200000)])],
         solve=_count_leq,
         candidates=[dict(kind="quadratic", weight=3, code=COUNT_LEQ_SLOW), dict(kind="correct", weight=4, code=COUNT_LEQ)]),
    dict(name="second_largest",
         description="Second Largest. Given n integers (1 <= n <= 100000), print the second largest distinct value, or "
                     "-1 if there is none.\nInput: n, then the n integers. Output: one integer.",
         public=["4\n1 5 3 4\n", "1\n7\n"], hidden=lambda rng: ["3\n9 9 8\n", "2\n4 4\n"], solve=_second,
         candidates=[dict(kind="not_distinct", weight=3, code=SECOND.replace("    a.dedup();\n", "")),
                     dict(kind="correct", weight=4, code=SECOND)]),
]


def load(seed=7):
    out = []
    for i, p in enumerate(PROBLEMS):
        rng = random.Random(seed * 1000 + i)
        public = [(x, p["solve"](x)) for x in p["public"]]
        hidden = [(x, p["solve"](x)) for x in p["hidden"](rng)]
        out.append(dict(name=p["name"], description=p["description"],
                        public_tests={"input": [x for x, _ in public], "output": [y for _, y in public]},
                        tests=public + hidden, candidates=p["candidates"]))
    return out

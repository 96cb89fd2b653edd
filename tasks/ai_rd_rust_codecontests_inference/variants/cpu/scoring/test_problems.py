"""The held-out problems of the cpu variant (protected): statements, public tests, hidden-test generators, a Python
reference solver each, and the model stand-in's candidate programs (correct ones and typical buggy ones).
Hidden tests are generated from a fixed seed at scoring time, so the file stays small and the tests are the same
for every run."""
import random

READ = """use std::io::{self, Read};
fn main() {
    let mut s = String::new();
    io::stdin().read_to_string(&mut s).unwrap();
    let mut it = s.split_ascii_whitespace();
"""


def nums(n, lo, hi, rng):
    return [rng.randint(lo, hi) for _ in range(n)]


def arr_input(head, values):
    return f"{head}\n{' '.join(map(str, values))}\n"


# ---- 1. big sum
SUM = READ + """    let n: usize = it.next().unwrap().parse().unwrap();
    let mut total: i64 = 0;
    for _ in 0..n { let v: i64 = it.next().unwrap().parse().unwrap(); total += v; }
    println!("{}", total);
}
"""

# ---- 2. maximum subarray
KADANE = READ + """    let n: usize = it.next().unwrap().parse().unwrap();
    let a: Vec<i64> = (0..n).map(|_| it.next().unwrap().parse().unwrap()).collect();
    let mut best = a[0];
    let mut cur: i64 = 0;
    for &v in &a { cur = if cur > 0 { cur + v } else { v }; if cur > best { best = cur; } }
    println!("{}", best);
}
"""

# ---- 3. count primes <= n
PRIMES = READ + """    let n: usize = it.next().unwrap().parse().unwrap();
    let mut sieve = vec![true; n + 1];
    let mut count = 0u64;
    for i in 2..=n {
        if sieve[i] { count += 1; let mut j = i * i; while j <= n { sieve[j] = false; j += i; } }
    }
    println!("{}", count);
}
"""
PRIMES_SLOW = READ + """    let n: u64 = it.next().unwrap().parse().unwrap();
    let mut count = 0u64;
    for i in 2..=n { let mut p = true; let mut d = 2; while d < i { if i % d == 0 { p = false; break; } d += 1; } if p { count += 1; } }
    println!("{}", count);
}
"""

# ---- 4. brackets
BRACKETS = READ + """    let s: Vec<char> = it.next().unwrap_or("").chars().collect();
    let mut stack: Vec<char> = Vec::new();
    let mut ok = true;
    for c in s {
        match c {
            '(' | '[' | '{' => stack.push(c),
            _ => {
                let want = match c { ')' => '(', ']' => '[', _ => '{' };
                if stack.pop() != Some(want) { ok = false; break; }
            }
        }
    }
    println!("{}", if ok && stack.is_empty() { "YES" } else { "NO" });
}
"""
BRACKETS_COUNT = READ + """    let s: Vec<char> = it.next().unwrap_or("").chars().collect();
    let mut depth = [0i64; 3];
    let mut ok = true;
    for c in s {
        let (k, d) = match c { '(' => (0, 1), ')' => (0, -1), '[' => (1, 1), ']' => (1, -1), '{' => (2, 1), _ => (2, -1) };
        depth[k] += d;
        if depth[k] < 0 { ok = false; }
    }
    println!("{}", if ok && depth.iter().all(|&d| d == 0) { "YES" } else { "NO" });
}
"""

# ---- 5. distinct values
DISTINCT = READ + """    let n: usize = it.next().unwrap().parse().unwrap();
    let mut a: Vec<i64> = (0..n).map(|_| it.next().unwrap().parse().unwrap()).collect();
    a.sort();
    a.dedup();
    println!("{}", a.len());
}
"""

# ---- 6. longest strictly increasing subsequence
LIS = READ + """    let n: usize = it.next().unwrap().parse().unwrap();
    let mut tails: Vec<i64> = Vec::new();
    for _ in 0..n {
        let v: i64 = it.next().unwrap().parse().unwrap();
        let pos = tails.partition_point(|&t| t < v);
        if pos == tails.len() { tails.push(v); } else { tails[pos] = v; }
    }
    println!("{}", tails.len());
}
"""
LIS_SLOW = READ + """    let n: usize = it.next().unwrap().parse().unwrap();
    let a: Vec<i64> = (0..n).map(|_| it.next().unwrap().parse().unwrap()).collect();
    let mut best = vec![1usize; n];
    for i in 0..n { for j in 0..i { if a[j] < a[i] && best[j] + 1 > best[i] { best[i] = best[j] + 1; } } }
    println!("{}", best.iter().max().unwrap_or(&0));
}
"""

# ---- 7. Fibonacci modulo 1e9+7
FIB = READ + """    let n: u64 = it.next().unwrap().parse().unwrap();
    const M: u64 = 1_000_000_007;
    fn fd(n: u64) -> (u64, u64) {
        if n == 0 { return (0, 1); }
        let (a, b) = fd(n / 2);
        let c = a * ((2 * b + M - a) % M) % M;
        let d = (a * a + b * b) % M;
        if n % 2 == 0 { (c, d) } else { (d, (c + d) % M) }
    }
    println!("{}", fd(n).0);
}
"""
FIB_SLOW = READ + """    let n: u64 = it.next().unwrap().parse().unwrap();
    const M: u64 = 1_000_000_007;
    let (mut a, mut b) = (0u64, 1u64);
    for _ in 0..n { let t = (a + b) % M; a = b; b = t; }
    println!("{}", a);
}
"""

# ---- 8. pairs with a given sum
PAIRS = READ + """    let n: usize = it.next().unwrap().parse().unwrap();
    let k: i64 = it.next().unwrap().parse().unwrap();
    let mut seen: std::collections::HashMap<i64, u64> = std::collections::HashMap::new();
    let mut count: u64 = 0;
    for _ in 0..n {
        let v: i64 = it.next().unwrap().parse().unwrap();
        if let Some(c) = seen.get(&(k - v)) { count += c; }
        *seen.entry(v).or_insert(0) += 1;
    }
    println!("{}", count);
}
"""
PAIRS_HALF = READ + """    let n: usize = it.next().unwrap().parse().unwrap();
    let k: i64 = it.next().unwrap().parse().unwrap();
    let mut freq: std::collections::HashMap<i64, u64> = std::collections::HashMap::new();
    for _ in 0..n { let v: i64 = it.next().unwrap().parse().unwrap(); *freq.entry(v).or_insert(0) += 1; }
    let mut count: u64 = 0;
    for (&v, &c) in &freq { if let Some(&d) = freq.get(&(k - v)) { count += c * d; } }
    println!("{}", count / 2);
}
"""


def _sum_hidden(rng):
    return [arr_input(200000, nums(200000, 10 ** 9 - 1000, 10 ** 9, rng)), arr_input(5, [-1, -2, -3, -4, -5]),
            arr_input(1, [0])]


def _kadane_hidden(rng):
    return [arr_input(5, [-5, -2, -8, -1, -9]), arr_input(1000, nums(1000, -100, 100, rng)), arr_input(1, [-7])]


def _kadane(inp):
    a = list(map(int, inp.split()))[1:]
    best, cur = a[0], 0
    for v in a:
        cur = cur + v if cur > 0 else v
        best = max(best, cur)
    return str(best)


def _count_primes(inp):
    n = int(inp.split()[0])
    if n < 2:
        return "0"
    sieve = bytearray([1]) * (n + 1)
    sieve[0:2] = b"\x00\x00"
    for i in range(2, int(n ** 0.5) + 1):
        if sieve[i]:
            sieve[i * i::i] = bytearray(len(range(i * i, n + 1, i)))
    return str(sum(sieve))


def _brackets(inp):
    s, stack = inp.split()[0] if inp.split() else "", []
    pairs = {")": "(", "]": "[", "}": "{"}
    for c in s:
        if c in "([{":
            stack.append(c)
        elif not stack or stack.pop() != pairs[c]:
            return "NO"
    return "YES" if not stack else "NO"


def _brackets_hidden(rng):
    deep = "".join(rng.choice(["()", "[]", "{}"]) for _ in range(20000))
    return ["([)]\n", "{[()()]}\n", "((\n", deep + "\n", "[(])\n"]


def _lis(inp):
    import bisect
    tails = []
    for v in list(map(int, inp.split()))[1:]:
        i = bisect.bisect_left(tails, v)
        tails[i:i + 1] = [v]
    return str(len(tails))


def _fib(inp):
    n, m = int(inp.split()[0]), 1_000_000_007

    def fd(k):
        if k == 0:
            return 0, 1
        a, b = fd(k // 2)
        c, d = a * (2 * b - a) % m, (a * a + b * b) % m
        return (c, d) if k % 2 == 0 else (d, (c + d) % m)

    return str(fd(n)[0])


def _pairs(inp):
    values = list(map(int, inp.split()))
    k, seen, count = values[1], {}, 0
    for v in values[2:]:
        count += seen.get(k - v, 0)
        seen[v] = seen.get(v, 0) + 1
    return str(count)


def _pairs_input(k, values):
    return f"{len(values)} {k}\n{' '.join(map(str, values))}\n"


PROBLEMS = [
    dict(name="big_sum",
         description="Big Sum. You are given n integers a_1..a_n (1 <= n <= 200000, |a_i| <= 10^9). Print their sum.\n"
                     "Input: the first line holds n, the second line the n integers. Output: one integer.",
         public=["3\n1 2 3\n", "2\n-5 10\n"], hidden=_sum_hidden, solve=lambda i: str(sum(map(int, i.split()[1:]))),
         candidates=[dict(kind="overflow_i32", weight=3, code=SUM.replace("i64", "i32")),
                     dict(kind="correct", weight=4, code=SUM),
                     dict(kind="compile_error", weight=1, code=SUM.replace("let mut total", "let total"))]),
    dict(name="max_subarray",
         description="Maximum Subarray. Given n integers (1 <= n <= 100000, |a_i| <= 10^4), print the largest sum of a "
                     "non-empty contiguous subarray.\nInput: n, then the n integers. Output: one integer.",
         public=["5\n1 -2 3 4 -1\n", "3\n2 2 -1\n"], hidden=_kadane_hidden, solve=_kadane,
         candidates=[dict(kind="zero_init", weight=3, code=KADANE.replace("let mut best = a[0];", "let mut best = 0i64;")),
                     dict(kind="correct", weight=4, code=KADANE)]),
    dict(name="count_primes",
         description="Counting Primes. Given n (1 <= n <= 5000000), print how many prime numbers are at most n.\n"
                     "Input: one integer n. Output: one integer.",
         public=["10\n", "1\n"], hidden=lambda rng: ["13\n", "5000000\n", "2\n"], solve=_count_primes,
         candidates=[dict(kind="off_by_one", weight=2, code=PRIMES.replace("for i in 2..=n", "for i in 2..n")),
                     dict(kind="too_slow", weight=2, code=PRIMES_SLOW),
                     dict(kind="correct", weight=4, code=PRIMES)]),
    dict(name="brackets",
         description="Bracket Sequence. Given a string of the characters ()[]{} (length 1 to 100000), print YES if it "
                     "is a correctly nested bracket sequence and NO otherwise.\nInput: the string. Output: YES or NO.",
         public=["([]{})\n", ")(\n"], hidden=_brackets_hidden, solve=_brackets,
         candidates=[dict(kind="counts_only", weight=3, code=BRACKETS_COUNT),
                     dict(kind="correct", weight=4, code=BRACKETS)]),
    dict(name="distinct_values",
         description="Distinct Values. Given n integers (1 <= n <= 100000, |a_i| <= 10^9), print how many different "
                     "values there are.\nInput: n, then the n integers. Output: one integer.",
         public=["5\n1 1 2 3 3\n", "3\n7 7 7\n"],
         hidden=lambda rng: [arr_input(6, [3, 1, 3, 2, 1, 3]), arr_input(50000, nums(50000, 1, 1000, rng))],
         solve=lambda i: str(len(set(i.split()[1:]))),
         candidates=[dict(kind="unsorted_dedup", weight=3, code=DISTINCT.replace("    a.sort();\n", "")),
                     dict(kind="correct", weight=4, code=DISTINCT)]),
    dict(name="longest_increasing",
         description="Longest Increasing Subsequence. Given n integers (1 <= n <= 200000, |a_i| <= 10^9), print the "
                     "length of the longest strictly increasing subsequence.\nInput: n, then the n integers. "
                     "Output: one integer.",
         public=["6\n5 1 6 2 7 3\n", "4\n4 3 2 1\n"],
         hidden=lambda rng: [arr_input(5, [2, 2, 2, 3, 3]), arr_input(200000, nums(200000, -10 ** 9, 10 ** 9, rng))],
         solve=_lis,
         candidates=[dict(kind="quadratic", weight=3, code=LIS_SLOW),
                     dict(kind="non_strict", weight=2, code=LIS.replace("t < v", "t <= v")),
                     dict(kind="correct", weight=4, code=LIS)]),
    dict(name="fibonacci_mod",
         description="Huge Fibonacci. Print F(n) modulo 1000000007, where F(0) = 0, F(1) = 1 and "
                     "F(k) = F(k-1) + F(k-2) (0 <= n <= 10^18).\nInput: one integer n. Output: one integer.",
         public=["10\n", "1\n"], hidden=lambda rng: ["1000000000000000000\n", "0\n", "93\n"], solve=_fib,
         candidates=[dict(kind="linear", weight=3, code=FIB_SLOW),
                     dict(kind="correct", weight=3, code=FIB),
                     dict(kind="compile_error", weight=1, code=FIB.replace("const M: u64", "const M"))]),
    dict(name="pairs_with_sum",
         description="Pairs With Sum. Given n integers and k (1 <= n <= 100000, |a_i|, |k| <= 10^9), print the number "
                     "of pairs i < j with a_i + a_j = k.\nInput: n and k, then the n integers. Output: one integer.",
         public=[_pairs_input(5, [1, 4, 2, 3, 0]), _pairs_input(9, [1, 2, 3])],
         hidden=lambda rng: [_pairs_input(4, [2, 2, 2, 1, 3]), _pairs_input(10, nums(60000, 0, 10, rng))],
         solve=_pairs,
         candidates=[dict(kind="double_counts_half", weight=3, code=PAIRS_HALF),
                     dict(kind="correct", weight=4, code=PAIRS)]),
]


def load(seed=2024):
    """[{name, description, public_tests, tests: [(input, output)]}, ...], with hidden tests generated from seed."""
    out = []
    for i, p in enumerate(PROBLEMS):
        rng = random.Random(seed * 1000 + i)
        public = [(x, p["solve"](x)) for x in p["public"]]
        hidden = [(x, p["solve"](x)) for x in p["hidden"](rng)]
        out.append(dict(name=p["name"], description=p["description"],
                        public_tests={"input": [x for x, _ in public], "output": [y for _, y in public]},
                        tests=public + hidden, candidates=p["candidates"]))
    return out

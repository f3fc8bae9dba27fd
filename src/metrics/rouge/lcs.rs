//! LCS kernels: bit-parallel union backtrack, rolling-row DP, and the full-table test oracle.

/// Number of zero bits among the lowest `j` bits of the bit row `v`.
#[inline]
fn zeros_below(v: &[u64], j: usize) -> u32 {
    let full = j / 64;
    let mut z: u32 = v[..full].iter().map(|x| x.count_zeros()).sum();
    let rem = j % 64;
    if rem > 0 {
        z += (!v[full] & ((1u64 << rem) - 1)).count_ones();
    }
    z
}

/// `lcs_ind(r, c)` of rouge-score (`_lcs_table` + `_backtrack_norec`), marking the chosen
/// indices of `r` in `union`, with the LCS table held as bit rows: after `i` tokens of `r`,
/// row `V_i` (Hyyrö's bit-parallel LCS over the positions of `c`) satisfies
/// `table[i][j] == zeros among the lowest j bits of V_i`. The backtrack queries exactly the
/// cells Python's does, so the same LCS is picked.
pub(super) fn lcs_union_bits(
    r: &[u32],
    c: &[u32],
    words: usize,
    slot: &[u32],
    masks: &[u64],
    rows: &mut Vec<u64>,
    union: &mut [bool],
) {
    if r.is_empty() || c.is_empty() {
        return;
    }
    rows.clear();
    rows.resize((r.len() + 1) * words, !0u64);
    for (i, &tok) in r.iter().enumerate() {
        let s = slot[tok as usize];
        let (prev, cur) = rows[i * words..(i + 2) * words].split_at_mut(words);
        if s == u32::MAX {
            cur.copy_from_slice(prev);
            continue;
        }
        let m = &masks[s as usize * words..(s as usize + 1) * words];
        let mut carry = 0u64;
        for k in 0..words {
            let vk = prev[k];
            let u = vk & m[k];
            let (s1, c1) = vk.overflowing_add(u);
            let (s2, c2) = s1.overflowing_add(carry);
            carry = (c1 | c2) as u64;
            cur[k] = s2 | (vk & !m[k]);
        }
    }
    let row = |i: usize| &rows[i * words..(i + 1) * words];
    if zeros_below(row(r.len()), c.len()) == 0 {
        return;
    }
    let (mut i, mut j) = (r.len(), c.len());
    while i > 0 && j > 0 {
        if r[i - 1] == c[j - 1] {
            union[i - 1] = true;
            i -= 1;
            j -= 1;
        } else if zeros_below(row(i), j - 1) > zeros_below(row(i - 1), j) {
            j -= 1;
        } else {
            i -= 1;
        }
    }
}

/// Above this many mask words (64 MiB) rougeL uses the rolling-row DP instead.
pub(super) const LCS_MASK_CAP_WORDS: usize = 1 << 23;

/// LCS length with one rolling DP row (`_lcs_table(ref, can)[-1][-1]`).
pub(super) fn lcs_len_dp(a: &[u32], b: &[u32]) -> usize {
    let mut row = vec![0u32; b.len() + 1];
    for &x in a {
        let mut diag = 0u32;
        for j in 1..=b.len() {
            let up = row[j];
            row[j] = if x == b[j - 1] { diag + 1 } else { up.max(row[j - 1]) };
            diag = up;
        }
    }
    row[b.len()] as usize
}

/// Direct port of `lcs_ind(ref, can)` (`_lcs_table` + `_backtrack_norec`) with a full DP
/// table: the test oracle for [`lcs_union_bits`].
#[cfg(test)]
pub(super) fn lcs_union_into(r: &[u32], c: &[u32], table: &mut Vec<u32>, union: &mut [bool]) {
    let rows = r.len();
    let cols = c.len();
    if rows == 0 || cols == 0 {
        return;
    }
    let w = cols + 1;
    table.clear();
    table.resize((rows + 1) * w, 0);
    for i in 1..=rows {
        let ri = r[i - 1];
        let (prev, cur) = table[(i - 1) * w..(i + 1) * w].split_at_mut(w);
        for j in 1..=cols {
            cur[j] = if ri == c[j - 1] { prev[j - 1] + 1 } else { prev[j].max(cur[j - 1]) };
        }
    }
    if table[rows * w + cols] == 0 {
        return;
    }
    let (mut i, mut j) = (rows, cols);
    while i > 0 && j > 0 {
        if r[i - 1] == c[j - 1] {
            union[i - 1] = true;
            i -= 1;
            j -= 1;
        } else if table[i * w + j - 1] > table[(i - 1) * w + j] {
            j -= 1;
        } else {
            i -= 1;
        }
    }
}

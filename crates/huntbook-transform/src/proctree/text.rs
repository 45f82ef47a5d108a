//! Text values written one after another into one buffer: the shape of an Arrow
//! `LargeUtf8` column, filled without an allocation or a builder call per value, and
//! handed to Arrow without a copy. Keys, paths and every text column of the output are
//! written this way. The offsets are 64-bit because pandas' Arrow-backed text columns
//! hold them so: 32-bit ones would be widened, a copy per column, on the way to Python.

use arrow_array::{make_array, ArrayRef};
use arrow_data::ArrayData;
use arrow_schema::DataType;
use rayon::prelude::*;

/// Values written before a buffer is sized for the rest.
const SAMPLE: usize = 1024;

/// Text values (or nulls) in one byte buffer. Only whole `&str`s and ASCII are written,
/// so every value is valid UTF-8.
pub struct TextBuf {
    bytes: Vec<u8>,
    /// Arrow's offsets: value `i` is `bytes[offsets[i]..offsets[i + 1]]`.
    offsets: Vec<i64>,
    /// Positions of the null values (usually none or few).
    nulls: Vec<u32>,
}

impl Default for TextBuf {
    fn default() -> Self {
        TextBuf::with_capacity(0)
    }
}

impl TextBuf {
    pub fn with_capacity(values: usize) -> TextBuf {
        let mut offsets = Vec::with_capacity(values + 1);
        offsets.push(0);
        TextBuf {
            bytes: Vec::new(),
            offsets,
            nulls: Vec::new(),
        }
    }

    /// Values `0..n`, each written by `write(i, buf)`, which must push exactly one value.
    pub fn build(n: usize, mut write: impl FnMut(usize, &mut TextBuf)) -> TextBuf {
        let mut buf = TextBuf::with_capacity(n);
        for i in 0..n {
            if i == SAMPLE {
                buf.reserve_like_so_far(n);
            }
            write(i, &mut buf);
        }
        buf
    }

    /// As [`TextBuf::build`], in one part per thread, joined after.
    pub fn par_build(n: usize, write: impl Fn(usize, &mut TextBuf) + Sync) -> TextBuf {
        let parts = rayon::current_num_threads().min(n.div_ceil(SAMPLE)).max(1);
        let bufs: Vec<TextBuf> = (0..parts)
            .into_par_iter()
            .map(|part| {
                let start = part * n / parts;
                let end = (part + 1) * n / parts;
                TextBuf::build(end - start, |i, buf| write(start + i, buf))
            })
            .collect();
        let mut all = TextBuf::with_capacity(n);
        all.bytes.reserve(bufs.iter().map(|b| b.bytes.len()).sum());
        for buf in bufs {
            all.append(buf);
        }
        all
    }

    fn append(&mut self, other: TextBuf) {
        let base = self.bytes.len() as i64;
        let first = self.len() as u32;
        self.bytes.extend_from_slice(&other.bytes);
        self.offsets
            .extend(other.offsets[1..].iter().map(|&o| base + o));
        self.nulls.extend(other.nulls.iter().map(|&r| first + r));
    }

    /// Room for `total` values as long on average as those so far (and an eighth more).
    /// Growing by doubling instead would copy the bytes each time, and the columns run
    /// to tens of megabytes.
    fn reserve_like_so_far(&mut self, total: usize) {
        let (done, bytes) = (self.len(), self.bytes.len());
        let expected = bytes.div_ceil(done.max(1)) * total / 8 * 9;
        self.bytes.reserve(expected.saturating_sub(bytes));
    }

    /// Values `0..n` given by `value(i)` (text, or bytes of text). The values of a block
    /// of rows are looked up first and copied after: look-ups are scattered over memory,
    /// and done this way they overlap instead of each waiting for the copy before it.
    pub fn gather<'s>(n: usize, value: impl Fn(usize) -> Option<&'s [u8]>) -> TextBuf {
        const BLOCK: usize = 256;
        let mut buf = TextBuf::with_capacity(n);
        let mut block: Vec<Option<&[u8]>> = Vec::with_capacity(BLOCK);
        for start in (0..n).step_by(BLOCK) {
            if start == SAMPLE {
                buf.reserve_like_so_far(n);
            }
            block.clear();
            block.extend((start..n.min(start + BLOCK)).map(&value));
            for v in &block {
                match v {
                    Some(bytes) => {
                        buf.bytes.extend_from_slice(bytes);
                        buf.end_value();
                    }
                    None => buf.push_null(),
                }
            }
        }
        buf
    }

    pub fn len(&self) -> usize {
        self.offsets.len() - 1
    }

    /// The bytes of value `i` (empty for a null).
    pub fn get(&self, i: usize) -> &[u8] {
        &self.bytes[self.offsets[i] as usize..self.offsets[i + 1] as usize]
    }

    pub fn push(&mut self, value: Option<&str>) {
        match value {
            Some(v) => self.push_str(v),
            None => self.push_null(),
        }
    }

    pub fn push_str(&mut self, value: &str) {
        self.bytes.extend_from_slice(value.as_bytes());
        self.end_value();
    }

    pub fn push_null(&mut self) {
        self.nulls.push(self.len() as u32);
        self.end_value();
    }

    /// A source index as MSTICPy writes it (`{:05}`).
    pub fn push_index(&mut self, index: u32) {
        write_index(&mut self.bytes, index);
        self.end_value();
    }

    /// Value `parent` (written earlier), `/`, then `index` as [`Self::push_index`]
    /// writes it: the path of a child.
    pub fn push_child_path(&mut self, parent: usize, index: u32) {
        let range = self.offsets[parent] as usize..self.offsets[parent + 1] as usize;
        self.bytes.extend_from_within(range);
        self.bytes.push(b'/');
        self.push_index(index);
    }

    /// A value written piece by piece by `write`.
    pub fn push_with(&mut self, write: impl FnOnce(&mut Vec<u8>)) {
        write(&mut self.bytes);
        self.end_value();
    }

    fn end_value(&mut self) {
        self.offsets.push(self.bytes.len() as i64);
    }

    /// The values as an Arrow `LargeUtf8` column.
    pub fn into_array(self) -> ArrayRef {
        let len = self.len();
        let validity = (!self.nulls.is_empty()).then(|| {
            let mut bits = vec![0xffu8; len.div_ceil(8)];
            for &r in &self.nulls {
                bits[r as usize / 8] &= !(1 << (r % 8));
            }
            bits.into()
        });
        let builder = ArrayData::builder(DataType::LargeUtf8)
            .len(len)
            .add_buffer(self.offsets.into())
            .add_buffer(self.bytes.into())
            .null_bit_buffer(validity);
        // SAFETY: only whole `&str`s and ASCII are written, and each value ends where the
        // next begins: validating every value again
        // would cost a pass over each of the output's text columns.
        make_array(unsafe { builder.build_unchecked() })
    }
}

/// A `LargeUtf8` column of `n` values given by `value(i)`.
pub fn text_column<'s>(n: usize, value: impl Fn(usize) -> Option<&'s str>) -> ArrayRef {
    TextBuf::gather(n, |i| value(i).map(str::as_bytes)).into_array()
}

/// `index` in decimal, zero-padded to five digits as MSTICPy's `{:05}`.
pub fn write_index(out: &mut Vec<u8>, index: u32) {
    write_decimal(out, u64::from(index), 5);
}

/// `v` in decimal, zero-padded to at least `width` (at most 20) digits. Written digit by
/// digit: keys and id columns are written several times per row, where a formatter
/// costs more than the rest of the row.
pub fn write_decimal(out: &mut Vec<u8>, mut v: u64, width: usize) {
    let mut digits = [b'0'; 20];
    let mut k = digits.len();
    loop {
        k -= 1;
        digits[k] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    out.extend_from_slice(&digits[k.min(digits.len() - width)..]);
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow_array::cast::AsArray;
    use arrow_array::Array;

    #[test]
    fn values_and_nulls_become_an_arrow_column() {
        let n = 100_005;
        let buf = TextBuf::build(n, |i, b| {
            if i % 1000 == 7 {
                b.push_null()
            } else {
                b.push_index(i as u32)
            }
        });
        let a = buf.into_array();
        let a = a.as_string::<i64>();
        assert_eq!(a.len(), n);
        assert_eq!(a.value(42), "00042");
        assert_eq!(a.value(n - 1), format!("{:05}", n - 1));
        assert!(a.is_null(2007) && a.is_valid(2008));
        assert_eq!(a.null_count(), (0..n).filter(|i| i % 1000 == 7).count());
    }

    #[test]
    fn parts_join_like_one_build() {
        let write = |i: usize, b: &mut TextBuf| {
            if i % 7 == 3 {
                b.push_null()
            } else {
                b.push_index(i as u32)
            }
        };
        let n = 5 * SAMPLE + 3;
        let (one, parts) = (TextBuf::build(n, write), TextBuf::par_build(n, write));
        assert_eq!(one.bytes, parts.bytes);
        assert_eq!(one.offsets, parts.offsets);
        assert_eq!(one.nulls, parts.nulls);
    }

    #[test]
    fn child_paths_extend_the_parent() {
        let mut b = TextBuf::default();
        b.push_index(3);
        b.push_child_path(0, 120_000);
        b.push_child_path(1, 7);
        assert_eq!(b.get(2), b"00003/120000/00007");
        for i in [0, 9, 99_999, 100_000, u32::MAX] {
            let mut out = Vec::new();
            write_index(&mut out, i);
            assert_eq!(out, format!("{i:05}").into_bytes());
        }
    }
}

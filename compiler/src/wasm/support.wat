;; The support runtime every Preflight module carries: reading JSON, parsing the value formats,
;; and writing JSON out. The compiler links these functions into each module and generates the
;; rest (facts reading, host values, rules, the verdict) from the rules file. Everything here
;; mirrors a Rust function of the compiler (named in each comment) and must agree with it byte
;; for byte.
;;
;; Memory: [0, 1024) constants of this file; [1024, $heap_base) the generated module's constants;
;; from $heap_base: the input (followed by one 0 byte, so that the reader needs no bounds check: a
;; 0 is no JSON token and ends every scan; and by 7 bytes more, so that a string is scanned a word
;; at a time), the JSON tape, then scratch and output, bump-allocated upwards.
(module
  (memory (export "memory") 1)

  ;; Set by the generated code's start: where dynamic memory begins.
  (global $heap_base (mut i32) (i32.const 4096))
  ;; The bump allocator's next free byte.
  (global $bump (mut i32) (i32.const 4096))
  ;; The input document.
  (global $in (mut i32) (i32.const 0))
  (global $in_len (mut i32) (i32.const 0))
  ;; The evaluation date the host passed to `evaluate` (days since 1970-01-01; i32::MIN: none).
  (global $date (mut i32) (i32.const 0))
  ;; The JSON tape: 16-byte nodes (kind, start, end, skip); see $parse.
  (global $tape (mut i32) (i32.const 0))
  (global $tape_n (mut i32) (i32.const 0))
  ;; The parser's cursor (an absolute address) and the first error's offset (-1: none).
  (global $pos (mut i32) (i32.const 0))
  (global $err (mut i32) (i32.const -1))
  ;; The output being written: its start and the next free byte.
  (global $out (mut i32) (i32.const 0))
  (global $out_end (mut i32) (i32.const 0))

  (data (i32.const 16) "0123456789abcdef")
  ;; The short escape of each control character (0: none, write \u00XX).
  (data (i32.const 32) "\00\00\00\00\00\00\00\00btn\00fr")

  ;; Makes sure [$bump, $bump + n) is memory; grows it (64 KiB pages) when not. Traps only when the
  ;; host refuses to grow, which the host reports as a resource limit.
  (func $reserve (param $n i32)
    (local $need i32)
    (local.set $need (i32.add (global.get $bump) (local.get $n)))
    (if (i32.gt_u (local.get $need) (i32.mul (memory.size) (i32.const 65536)))
      (then
        (if (i32.eq (memory.grow
                      (i32.sub (i32.shr_u (i32.add (local.get $need) (i32.const 65535)) (i32.const 16))
                               (memory.size)))
                    (i32.const -1))
          (then unreachable)))))

  ;; Bump-allocates n bytes, 8-aligned.
  (func $alloc_bytes (param $n i32) (result i32)
    (local $p i32)
    (local.set $p (i32.and (i32.add (global.get $bump) (i32.const 7)) (i32.const -8)))
    (global.set $bump (local.get $p))
    (call $reserve (local.get $n))
    (global.set $bump (i32.add (local.get $p) (local.get $n)))
    (local.get $p))

  ;; Exported as `alloc`: resets the heap and returns where the host writes `len` input bytes, or 0
  ;; when `len` (unsigned) is over json::MAX_BYTES: nothing is reserved, the host writes nothing
  ;; and `evaluate` answers too_large, however large the document.
  (func $alloc_input (param $len i32) (result i32)
    (if (i32.gt_u (local.get $len) (i32.const 1048576)) (then (return (i32.const 0))))
    (global.set $bump (global.get $heap_base))
    (global.set $in (call $alloc_bytes (i32.add (local.get $len) (i32.const 8))))
    (global.set $in_len (local.get $len))
    (global.get $in))

  ;; ------------------------------------------------------------------ UTF-8
  ;; The offset of the first byte that does not start a valid UTF-8 sequence, or -1.
  (func $utf8_check (result i32)
    (local $i i32) (local $c i32) (local $n i32) (local $min i32) (local $cp i32) (local $k i32) (local $b i32)
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (global.get $in_len)))
        ;; Eight ASCII bytes at a time while eight remain.
        (if (i32.le_u (i32.add (local.get $i) (i32.const 8)) (global.get $in_len))
          (then
            (if (i64.eqz (i64.and (i64.load (i32.add (global.get $in) (local.get $i))) (i64.const 0x8080808080808080)))
              (then (local.set $i (i32.add (local.get $i) (i32.const 8))) (br $next)))))
        (local.set $c (i32.load8_u (i32.add (global.get $in) (local.get $i))))
        (if (i32.lt_u (local.get $c) (i32.const 0x80))
          (then (local.set $i (i32.add (local.get $i) (i32.const 1))) (br $next)))
        (if (i32.eq (i32.and (local.get $c) (i32.const 0xE0)) (i32.const 0xC0))
          (then (local.set $n (i32.const 1)) (local.set $min (i32.const 0x80))
                (local.set $cp (i32.and (local.get $c) (i32.const 0x1F))))
          (else (if (i32.eq (i32.and (local.get $c) (i32.const 0xF0)) (i32.const 0xE0))
            (then (local.set $n (i32.const 2)) (local.set $min (i32.const 0x800))
                  (local.set $cp (i32.and (local.get $c) (i32.const 0x0F))))
            (else (if (i32.eq (i32.and (local.get $c) (i32.const 0xF8)) (i32.const 0xF0))
              (then (local.set $n (i32.const 3)) (local.set $min (i32.const 0x10000))
                    (local.set $cp (i32.and (local.get $c) (i32.const 0x07))))
              (else (return (local.get $i))))))))
        ;; A sequence cut off by the end of the input.
        (if (i32.ge_u (i32.add (local.get $i) (local.get $n)) (global.get $in_len))
          (then (return (local.get $i))))
        (local.set $k (i32.const 1))
        (block $bad
          (loop $cont
            (if (i32.le_u (local.get $k) (local.get $n))
              (then
                (local.set $b (i32.load8_u (i32.add (global.get $in) (i32.add (local.get $i) (local.get $k)))))
                (br_if $bad (i32.ne (i32.and (local.get $b) (i32.const 0xC0)) (i32.const 0x80)))
                (local.set $cp (i32.or (i32.shl (local.get $cp) (i32.const 6)) (i32.and (local.get $b) (i32.const 0x3F))))
                (local.set $k (i32.add (local.get $k) (i32.const 1)))
                (br $cont))))
          (br_if $bad (i32.lt_u (local.get $cp) (local.get $min)))
          (br_if $bad (i32.gt_u (local.get $cp) (i32.const 0x10FFFF)))
          (br_if $bad (i32.eq (i32.and (local.get $cp) (i32.const 0xFFFFF800)) (i32.const 0xD800)))
          (local.set $i (i32.add (local.get $i) (i32.add (local.get $n) (i32.const 1))))
          (br $next))
        (return (local.get $i))))
    (i32.const -1))

  ;; ------------------------------------------------------------------ JSON (json.rs)
  ;; Tape node i at $tape + 16 i: kind (0 null, 1 false, 2 true, 3 number, 4 string, 5 array,
  ;; 6 object), start and end (absolute addresses; for strings the raw text between the quotes),
  ;; skip (the index of the node after this one and all it contains). An object's children are
  ;; key, value, key, value, ...

  ;; The byte at the cursor is read in place: past the end it is the 0 after the input, which no
  ;; rule accepts (a string fails on it as on any control character). Callers test the byte
  ;; before calling $skip_ws: compact JSON has no whitespace to skip, and a call is dearer than
  ;; the test.

  (func $skip_ws
    (local $p i32) (local $c i32)
    (local.set $p (global.get $pos))
    (loop $again
      (local.set $c (i32.load8_u (local.get $p)))
      (if (i32.le_u (local.get $c) (i32.const 32))
        (then
          (if (i32.or (i32.or (i32.eq (local.get $c) (i32.const 32)) (i32.eq (local.get $c) (i32.const 9)))
                      (i32.or (i32.eq (local.get $c) (i32.const 10)) (i32.eq (local.get $c) (i32.const 13))))
            (then (local.set $p (i32.add (local.get $p) (i32.const 1))) (br $again))))))
    (global.set $pos (local.get $p)))

  ;; Records the first error at `at` (an absolute address); returns 0 for `br_if`-style use.
  (func $fail (param $at i32) (result i32)
    (if (i32.lt_s (global.get $err) (i32.const 0))
      (then (global.set $err (i32.sub (local.get $at) (global.get $in)))))
    (i32.const 0))

  (func $node (param $kind i32) (param $start i32) (param $end i32) (result i32)
    (local $i i32) (local $a i32)
    (local.set $i (global.get $tape_n))
    (local.set $a (i32.add (global.get $tape) (i32.shl (local.get $i) (i32.const 4))))
    (i32.store (local.get $a) (local.get $kind))
    (i32.store offset=4 (local.get $a) (local.get $start))
    (i32.store offset=8 (local.get $a) (local.get $end))
    (i32.store offset=12 (local.get $a) (i32.add (local.get $i) (i32.const 1)))
    (global.set $tape_n (i32.add (local.get $i) (i32.const 1)))
    (local.get $i))

  (func $set_skip (param $i i32)
    (i32.store offset=12 (i32.add (global.get $tape) (i32.shl (local.get $i) (i32.const 4))) (global.get $tape_n)))

  ;; `true`, `false` or `null`: compared as one word (the 8 bytes after the input make the load
  ;; safe); on a mismatch, byte by byte to find where the document stops being JSON.
  (func $word (param $w i64) (param $n i32) (param $kind i32) (result i32)
    (local $k i32)
    (if (i64.eq (i64.and (i64.load (global.get $pos))
                         (i64.sub (i64.shl (i64.const 1) (i64.extend_i32_u (i32.shl (local.get $n) (i32.const 3)))) (i64.const 1)))
                (local.get $w))
      (then
        (global.set $pos (i32.add (global.get $pos) (local.get $n)))
        (drop (call $node (local.get $kind) (i32.const 0) (i32.const 0)))
        (return (i32.const 1))))
    (loop $next
      (if (i32.lt_u (local.get $k) (local.get $n))
        (then
          (if (i32.ne (i32.load8_u (global.get $pos)) (i32.wrap_i64 (i64.and (i64.shr_u (local.get $w) (i64.extend_i32_u (i32.shl (local.get $k) (i32.const 3)))) (i64.const 255))))
            (then (return (call $fail (global.get $pos)))))
          (global.set $pos (i32.add (global.get $pos) (i32.const 1)))
          (local.set $k (i32.add (local.get $k) (i32.const 1)))
          (br $next))))
    (drop (call $node (local.get $kind) (i32.const 0) (i32.const 0)))
    (i32.const 1))

  (func $is_digit (param $c i32) (result i32)
    (i32.lt_u (i32.sub (local.get $c) (i32.const 48)) (i32.const 10)))

  (func $digits
    (loop $more
      (if (i32.lt_u (i32.sub (i32.load8_u (global.get $pos)) (i32.const 48)) (i32.const 10))
        (then (global.set $pos (i32.add (global.get $pos) (i32.const 1))) (br $more)))))

  (func $number (result i32)
    (local $start i32)
    (local.set $start (global.get $pos))
    (if (i32.eq (i32.load8_u (global.get $pos)) (i32.const 45)) (then (global.set $pos (i32.add (global.get $pos) (i32.const 1)))))
    (if (i32.eq (i32.load8_u (global.get $pos)) (i32.const 48))
      (then (global.set $pos (i32.add (global.get $pos) (i32.const 1))))
      (else (if (i32.and (i32.lt_u (i32.sub (i32.load8_u (global.get $pos)) (i32.const 48)) (i32.const 10)) (i32.ne (i32.load8_u (global.get $pos)) (i32.const 48)))
        (then (call $digits))
        (else (return (call $fail (local.get $start)))))))
    (if (i32.eq (i32.load8_u (global.get $pos)) (i32.const 46))
      (then
        (global.set $pos (i32.add (global.get $pos) (i32.const 1)))
        (if (i32.eqz (i32.lt_u (i32.sub (i32.load8_u (global.get $pos)) (i32.const 48)) (i32.const 10))) (then (return (call $fail (local.get $start)))))
        (call $digits)))
    (if (i32.eq (i32.or (i32.load8_u (global.get $pos)) (i32.const 32)) (i32.const 101))
      (then
        (global.set $pos (i32.add (global.get $pos) (i32.const 1)))
        (if (i32.or (i32.eq (i32.load8_u (global.get $pos)) (i32.const 43)) (i32.eq (i32.load8_u (global.get $pos)) (i32.const 45)))
          (then (global.set $pos (i32.add (global.get $pos) (i32.const 1)))))
        (if (i32.eqz (i32.lt_u (i32.sub (i32.load8_u (global.get $pos)) (i32.const 48)) (i32.const 10))) (then (return (call $fail (local.get $start)))))
        (call $digits)))
    (drop (call $node (i32.const 3) (local.get $start) (global.get $pos)))
    (i32.const 1))

  (func $hex_digit (param $c i32) (result i32)
    (if (i32.lt_u (i32.sub (local.get $c) (i32.const 48)) (i32.const 10)) (then (return (i32.sub (local.get $c) (i32.const 48)))))
    (local.set $c (i32.or (local.get $c) (i32.const 32)))
    (if (i32.lt_u (i32.sub (local.get $c) (i32.const 97)) (i32.const 6))
      (then (return (i32.sub (local.get $c) (i32.const 87)))))
    (i32.const -1))

  ;; Reads `uXXXX` with $pos on the `u`; the code unit, or -1 (and $pos is then meaningless).
  (func $hex4 (result i32)
    (local $k i32) (local $d i32) (local $unit i32)
    (if (i32.gt_u (i32.add (global.get $pos) (i32.const 5)) (i32.add (global.get $in) (global.get $in_len)))
      (then (return (i32.const -1))))
    (local.set $k (i32.const 1))
    (loop $next
      (local.set $d (call $hex_digit (i32.load8_u (i32.add (global.get $pos) (local.get $k)))))
      (if (i32.lt_s (local.get $d) (i32.const 0)) (then (return (i32.const -1))))
      (local.set $unit (i32.or (i32.shl (local.get $unit) (i32.const 4)) (local.get $d)))
      (local.set $k (i32.add (local.get $k) (i32.const 1)))
      (br_if $next (i32.le_u (local.get $k) (i32.const 4))))
    (global.set $pos (i32.add (global.get $pos) (i32.const 5)))
    (local.get $unit))

  ;; A string node whose text has an escape is marked in byte 1 of its kind field (see $kind).
  (func $string (result i32)
    (local $start i32) (local $c i32) (local $unit i32) (local $p i32) (local $escaped i32) (local $w i64) (local $x i64)
    (local.set $start (global.get $pos))
    (local.set $p (i32.add (global.get $pos) (i32.const 1)))
    (block $closed
      (loop $next
        ;; The common case first: bytes that are neither `"`, `\` nor control characters, eight at
        ;; a time while a word holds none (x - 0x01.. & ~x & 0x80.. is non-zero when a byte of x is
        ;; 0; the word with the 0 after the input always stops the scan).
        (block $word_done
          (loop $words
            (local.set $w (i64.load (local.get $p)))
            (local.set $x (i64.xor (local.get $w) (i64.const 0x2222222222222222)))
            (br_if $word_done (i64.ne (i64.const 0) (i64.and (i64.and (i64.sub (local.get $x) (i64.const 0x0101010101010101))
                                                                      (i64.xor (local.get $x) (i64.const -1)))
                                                              (i64.const 0x8080808080808080))))
            (local.set $x (i64.xor (local.get $w) (i64.const 0x5C5C5C5C5C5C5C5C)))
            (br_if $word_done (i64.ne (i64.const 0) (i64.and (i64.and (i64.sub (local.get $x) (i64.const 0x0101010101010101))
                                                                      (i64.xor (local.get $x) (i64.const -1)))
                                                              (i64.const 0x8080808080808080))))
            (br_if $word_done (i64.ne (i64.const 0) (i64.and (i64.and (i64.sub (local.get $w) (i64.const 0x2020202020202020))
                                                                      (i64.xor (local.get $w) (i64.const -1)))
                                                              (i64.const 0x8080808080808080))))
            (local.set $p (i32.add (local.get $p) (i32.const 8)))
            (br $words)))
        (loop $plain
          (local.set $c (i32.load8_u (local.get $p)))
          (if (i32.and (i32.ge_u (local.get $c) (i32.const 32))
                       (i32.and (i32.ne (local.get $c) (i32.const 34)) (i32.ne (local.get $c) (i32.const 92))))
            (then (local.set $p (i32.add (local.get $p) (i32.const 1))) (br $plain))))
        (global.set $pos (local.get $p))
        (br_if $closed (i32.eq (local.get $c) (i32.const 34)))
        (if (i32.lt_u (local.get $c) (i32.const 32)) (then (return (call $fail (local.get $start)))))
        (if (i32.eq (local.get $c) (i32.const 92))
          (then
            (local.set $escaped (i32.const 1))
            (global.set $pos (i32.add (global.get $pos) (i32.const 1)))
            (local.set $c (i32.load8_u (global.get $pos)))
            (if (i32.eq (local.get $c) (i32.const 117))
              (then
                (local.set $unit (call $hex4))
                (if (i32.lt_s (local.get $unit) (i32.const 0)) (then (return (call $fail (local.get $start)))))
                (if (i32.eq (i32.and (local.get $unit) (i32.const 0xFC00)) (i32.const 0xDC00))
                  (then (return (call $fail (local.get $start)))))
                (if (i32.eq (i32.and (local.get $unit) (i32.const 0xFC00)) (i32.const 0xD800))
                  (then
                    (if (i32.ne (i32.load8_u (global.get $pos)) (i32.const 92)) (then (return (call $fail (local.get $start)))))
                    (global.set $pos (i32.add (global.get $pos) (i32.const 1)))
                    (if (i32.ne (i32.load8_u (global.get $pos)) (i32.const 117)) (then (return (call $fail (local.get $start)))))
                    (local.set $unit (call $hex4))
                    (if (i32.ne (i32.and (local.get $unit) (i32.const 0xFC00)) (i32.const 0xDC00))
                      (then (return (call $fail (local.get $start)))))))
                (local.set $p (global.get $pos))
                (br $next)))
            (if (i32.or
                  (i32.or (i32.or (i32.eq (local.get $c) (i32.const 34)) (i32.eq (local.get $c) (i32.const 92)))
                          (i32.or (i32.eq (local.get $c) (i32.const 47)) (i32.eq (local.get $c) (i32.const 98))))
                  (i32.or (i32.or (i32.eq (local.get $c) (i32.const 102)) (i32.eq (local.get $c) (i32.const 110)))
                          (i32.or (i32.eq (local.get $c) (i32.const 114)) (i32.eq (local.get $c) (i32.const 116)))))
              (then (global.set $pos (i32.add (global.get $pos) (i32.const 1))) (local.set $p (global.get $pos)) (br $next)))
            (return (call $fail (local.get $start)))))
        (global.set $pos (i32.add (global.get $pos) (i32.const 1)))
        (local.set $p (global.get $pos))
        (br $next)))
    (i32.store8 offset=1 (i32.add (global.get $tape) (i32.shl (call $node (i32.const 4) (i32.add (local.get $start) (i32.const 1)) (global.get $pos)) (i32.const 4)))
      (local.get $escaped))
    (global.set $pos (i32.add (global.get $pos) (i32.const 1)))
    (i32.const 1))

  (func $value (param $depth i32) (result i32)
    (local $c i32) (local $me i32)
    (local.set $c (i32.load8_u (global.get $pos)))
    (if (i32.or (i32.eq (local.get $c) (i32.const 123)) (i32.eq (local.get $c) (i32.const 91)))
      (then
        (if (i32.ge_u (local.get $depth) (i32.const 64)) (then (return (call $fail (global.get $pos)))))
        (local.set $me (call $node (select (i32.const 6) (i32.const 5) (i32.eq (local.get $c) (i32.const 123)))
                                   (global.get $pos) (i32.const 0)))
        (global.set $pos (i32.add (global.get $pos) (i32.const 1)))
        (if (i32.le_u (i32.load8_u (global.get $pos)) (i32.const 32)) (then (call $skip_ws)))
        (if (i32.eq (i32.load8_u (global.get $pos)) (i32.add (local.get $c) (i32.const 2)))
          (then (global.set $pos (i32.add (global.get $pos) (i32.const 1))) (call $set_skip (local.get $me)) (return (i32.const 1))))
        (loop $member
          (if (i32.eq (local.get $c) (i32.const 123))
            (then
              (if (i32.ne (i32.load8_u (global.get $pos)) (i32.const 34)) (then (return (call $fail (global.get $pos)))))
              (if (i32.eqz (call $string)) (then (return (i32.const 0))))
              (if (i32.le_u (i32.load8_u (global.get $pos)) (i32.const 32)) (then (call $skip_ws)))
              (if (i32.ne (i32.load8_u (global.get $pos)) (i32.const 58)) (then (return (call $fail (global.get $pos)))))
              (global.set $pos (i32.add (global.get $pos) (i32.const 1)))
              (if (i32.le_u (i32.load8_u (global.get $pos)) (i32.const 32)) (then (call $skip_ws)))))
          (if (i32.eqz (call $value (i32.add (local.get $depth) (i32.const 1)))) (then (return (i32.const 0))))
          (if (i32.le_u (i32.load8_u (global.get $pos)) (i32.const 32)) (then (call $skip_ws)))
          (if (i32.eq (i32.load8_u (global.get $pos)) (i32.const 44))
            (then (global.set $pos (i32.add (global.get $pos) (i32.const 1))) (if (i32.le_u (i32.load8_u (global.get $pos)) (i32.const 32)) (then (call $skip_ws))) (br $member)))
          (if (i32.eq (i32.load8_u (global.get $pos)) (i32.add (local.get $c) (i32.const 2)))
            (then (global.set $pos (i32.add (global.get $pos) (i32.const 1))) (call $set_skip (local.get $me)) (return (i32.const 1))))
          (return (call $fail (global.get $pos))))
        (unreachable)))
    (if (i32.eq (local.get $c) (i32.const 34)) (then (return (call $string))))
    (if (i32.or (i32.eq (local.get $c) (i32.const 45)) (i32.lt_u (i32.sub (local.get $c) (i32.const 48)) (i32.const 10))) (then (return (call $number))))
    (if (i32.eq (local.get $c) (i32.const 116)) (then (return (call $word (i64.const 0x65757274) (i32.const 4) (i32.const 2)))))
    (if (i32.eq (local.get $c) (i32.const 102)) (then (return (call $word (i64.const 0x65736c6166) (i32.const 5) (i32.const 1)))))
    (if (i32.eq (local.get $c) (i32.const 110)) (then (return (call $word (i64.const 0x6c6c756e) (i32.const 4) (i32.const 0)))))
    (call $fail (global.get $pos)))

  ;; Parses the input into the tape. -1 when it is valid JSON, else the error offset.
  (func $parse (result i32)
    (global.set $err (i32.const -1))
    (global.set $tape_n (i32.const 0))
    (global.set $tape (call $alloc_bytes (i32.shl (i32.add (global.get $in_len) (i32.const 1)) (i32.const 4))))
    (global.set $pos (global.get $in))
    (if (i32.le_u (i32.load8_u (global.get $pos)) (i32.const 32)) (then (call $skip_ws)))
    (if (call $value (i32.const 0))
      (then
        (if (i32.le_u (i32.load8_u (global.get $pos)) (i32.const 32)) (then (call $skip_ws)))
        (if (i32.ne (global.get $pos) (i32.add (global.get $in) (global.get $in_len)))
          (then (drop (call $fail (global.get $pos)))))))
    (global.get $err))

  (func $kind (param $i i32) (result i32) (i32.load8_u (i32.add (global.get $tape) (i32.shl (local.get $i) (i32.const 4)))))
  (func $start (param $i i32) (result i32) (i32.load offset=4 (i32.add (global.get $tape) (i32.shl (local.get $i) (i32.const 4)))))
  (func $end (param $i i32) (result i32) (i32.load offset=8 (i32.add (global.get $tape) (i32.shl (local.get $i) (i32.const 4)))))
  (func $escaped (param $i i32) (result i32) (i32.load8_u offset=1 (i32.add (global.get $tape) (i32.shl (local.get $i) (i32.const 4)))))
  (func $skip (param $i i32) (result i32) (i32.load offset=12 (i32.add (global.get $tape) (i32.shl (local.get $i) (i32.const 4)))))

  ;; Decodes string node i into fresh memory (json::decode); returns ptr << 32 | len.
  ;; A string without escapes is its raw text: no copy.
  (func $decode (param $i i32) (result i64)
    (local $p i32) (local $e i32) (local $o i32) (local $start i32) (local $c i32) (local $u i32) (local $lo i32)
    (local.set $p (call $start (local.get $i)))
    (local.set $e (call $end (local.get $i)))
    (if (i32.eqz (call $escaped (local.get $i)))
      (then (return (i64.or (i64.shl (i64.extend_i32_u (local.get $p)) (i64.const 32))
                            (i64.extend_i32_u (i32.sub (local.get $e) (local.get $p)))))))
    (local.set $start (call $alloc_bytes (i32.sub (local.get $e) (local.get $p))))
    (local.set $o (local.get $start))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $p) (local.get $e)))
        (local.set $c (i32.load8_u (local.get $p)))
        (local.set $p (i32.add (local.get $p) (i32.const 1)))
        (if (i32.ne (local.get $c) (i32.const 92))
          (then (i32.store8 (local.get $o) (local.get $c)) (local.set $o (i32.add (local.get $o) (i32.const 1))) (br $next)))
        (local.set $c (i32.load8_u (local.get $p)))
        (local.set $p (i32.add (local.get $p) (i32.const 1)))
        (if (i32.eq (local.get $c) (i32.const 117))
          (then
            (global.set $pos (i32.sub (local.get $p) (i32.const 1)))
            (local.set $u (call $hex4))
            (local.set $p (global.get $pos))
            (if (i32.eq (i32.and (local.get $u) (i32.const 0xFC00)) (i32.const 0xD800))
              (then
                (global.set $pos (i32.add (local.get $p) (i32.const 1)))
                (local.set $lo (call $hex4))
                (local.set $p (global.get $pos))
                (local.set $u (i32.add (i32.const 0x10000)
                  (i32.or (i32.shl (i32.sub (local.get $u) (i32.const 0xD800)) (i32.const 10))
                          (i32.sub (local.get $lo) (i32.const 0xDC00)))))))
            (local.set $o (call $put_utf8 (local.get $o) (local.get $u)))
            (br $next)))
        (i32.store8 (local.get $o)
          (if (result i32) (i32.eq (local.get $c) (i32.const 98)) (then (i32.const 8))
          (else (if (result i32) (i32.eq (local.get $c) (i32.const 102)) (then (i32.const 12))
          (else (if (result i32) (i32.eq (local.get $c) (i32.const 110)) (then (i32.const 10))
          (else (if (result i32) (i32.eq (local.get $c) (i32.const 114)) (then (i32.const 13))
          (else (if (result i32) (i32.eq (local.get $c) (i32.const 116)) (then (i32.const 9))
          (else (local.get $c))))))))))))
        (local.set $o (i32.add (local.get $o) (i32.const 1)))
        (br $next)))
    (global.set $bump (local.get $o))
    (i64.or (i64.shl (i64.extend_i32_u (local.get $start)) (i64.const 32))
            (i64.extend_i32_u (i32.sub (local.get $o) (local.get $start)))))

  (func $put_utf8 (param $o i32) (param $u i32) (result i32)
    (if (i32.lt_u (local.get $u) (i32.const 0x80))
      (then (i32.store8 (local.get $o) (local.get $u)) (return (i32.add (local.get $o) (i32.const 1)))))
    (if (i32.lt_u (local.get $u) (i32.const 0x800))
      (then
        (i32.store8 (local.get $o) (i32.or (i32.const 0xC0) (i32.shr_u (local.get $u) (i32.const 6))))
        (i32.store8 offset=1 (local.get $o) (i32.or (i32.const 0x80) (i32.and (local.get $u) (i32.const 0x3F))))
        (return (i32.add (local.get $o) (i32.const 2)))))
    (if (i32.lt_u (local.get $u) (i32.const 0x10000))
      (then
        (i32.store8 (local.get $o) (i32.or (i32.const 0xE0) (i32.shr_u (local.get $u) (i32.const 12))))
        (i32.store8 offset=1 (local.get $o) (i32.or (i32.const 0x80) (i32.and (i32.shr_u (local.get $u) (i32.const 6)) (i32.const 0x3F))))
        (i32.store8 offset=2 (local.get $o) (i32.or (i32.const 0x80) (i32.and (local.get $u) (i32.const 0x3F))))
        (return (i32.add (local.get $o) (i32.const 3)))))
    (i32.store8 (local.get $o) (i32.or (i32.const 0xF0) (i32.shr_u (local.get $u) (i32.const 18))))
    (i32.store8 offset=1 (local.get $o) (i32.or (i32.const 0x80) (i32.and (i32.shr_u (local.get $u) (i32.const 12)) (i32.const 0x3F))))
    (i32.store8 offset=2 (local.get $o) (i32.or (i32.const 0x80) (i32.and (i32.shr_u (local.get $u) (i32.const 6)) (i32.const 0x3F))))
    (i32.store8 offset=3 (local.get $o) (i32.or (i32.const 0x80) (i32.and (local.get $u) (i32.const 0x3F))))
    (i32.add (local.get $o) (i32.const 4)))

  ;; Eight bytes at a time while eight remain, then byte by byte.
  (func $bytes_eq (param $a i32) (param $al i32) (param $b i32) (param $bl i32) (result i32)
    (local $k i32)
    (if (i32.ne (local.get $al) (local.get $bl)) (then (return (i32.const 0))))
    (block $words_done
      (loop $words
        (br_if $words_done (i32.gt_u (i32.add (local.get $k) (i32.const 8)) (local.get $al)))
        (if (i64.ne (i64.load (i32.add (local.get $a) (local.get $k))) (i64.load (i32.add (local.get $b) (local.get $k))))
          (then (return (i32.const 0))))
        (local.set $k (i32.add (local.get $k) (i32.const 8)))
        (br $words)))
    (loop $next
      (if (i32.lt_u (local.get $k) (local.get $al))
        (then
          (if (i32.ne (i32.load8_u (i32.add (local.get $a) (local.get $k))) (i32.load8_u (i32.add (local.get $b) (local.get $k))))
            (then (return (i32.const 0))))
          (local.set $k (i32.add (local.get $k) (i32.const 1)))
          (br $next))))
    (i32.const 1))

;; The node of the last member of object node `obj` whose decoded key is the given bytes, or -1.
  ;; A key without escapes is compared in place; only escaped keys are decoded.
  (func $get (param $obj i32) (param $key i32) (param $key_len i32) (result i32)
    (local $i i32) (local $end i32) (local $found i32) (local $d i64) (local $mark i32) (local $a i32) (local $s i32)
    (local.set $found (i32.const -1))
    (local.set $end (call $skip (local.get $obj)))
    (local.set $i (i32.add (local.get $obj) (i32.const 1)))
    (local.set $mark (global.get $bump))
    (loop $next
      (if (i32.lt_u (local.get $i) (local.get $end))
        (then
          (local.set $a (i32.add (global.get $tape) (i32.shl (local.get $i) (i32.const 4))))
          (local.set $s (i32.load offset=4 (local.get $a)))
          (if (i32.load8_u offset=1 (local.get $a))
            (then
              (local.set $d (call $decode (local.get $i)))
              (if (call $bytes_eq (i32.wrap_i64 (i64.shr_u (local.get $d) (i64.const 32))) (i32.wrap_i64 (local.get $d))
                                  (local.get $key) (local.get $key_len))
                (then (local.set $found (i32.add (local.get $i) (i32.const 1)))))
              (global.set $bump (local.get $mark)))
            (else
              (if (i32.eq (i32.sub (i32.load offset=8 (local.get $a)) (local.get $s)) (local.get $key_len))
                (then
                  (if (call $bytes_eq (local.get $s) (local.get $key_len) (local.get $key) (local.get $key_len))
                    (then (local.set $found (i32.add (local.get $i) (i32.const 1)))))))))
          (local.set $i (i32.load offset=12 (i32.add (global.get $tape) (i32.shl (i32.add (local.get $i) (i32.const 1)) (i32.const 4)))))
          (br $next))))
    (local.get $found))

  ;; ------------------------------------------------------------------ value formats (value.rs)

  ;; A version record: count (u32), then up to 8 parts (u32). 0 when malformed.
  ;; mode 0: product version (Version::parse_product); 1: build (Version::parse_build).
  (func $version (param $p i32) (param $len i32) (param $mode i32) (result i32)
    (local $rec i32) (local $end i32) (local $n i32) (local $digits i32) (local $part i64) (local $c i32) (local $numbers_end i32) (local $q i32)
    (local.set $end (i32.add (local.get $p) (local.get $len)))
    (local.set $numbers_end (local.get $end))
    (if (i32.eqz (local.get $mode))
      (then
        ;; The suffix starts at the first '-' or '+'; it must be non-empty and alphanumeric, '.' or '-'.
        (local.set $q (local.get $p))
        (block $found
          (loop $scan
            (br_if $found (i32.ge_u (local.get $q) (local.get $end)))
            (local.set $c (i32.load8_u (local.get $q)))
            (br_if $found (i32.or (i32.eq (local.get $c) (i32.const 45)) (i32.eq (local.get $c) (i32.const 43))))
            (local.set $q (i32.add (local.get $q) (i32.const 1)))
            (br $scan)))
        (if (i32.lt_u (local.get $q) (local.get $end))
          (then
            (local.set $numbers_end (local.get $q))
            (local.set $q (i32.add (local.get $q) (i32.const 1)))
            (if (i32.ge_u (local.get $q) (local.get $end)) (then (return (i32.const 0))))
            (loop $suffix
              (if (i32.lt_u (local.get $q) (local.get $end))
                (then
                  (local.set $c (i32.load8_u (local.get $q)))
                  (if (i32.eqz (i32.or (i32.or (i32.lt_u (i32.sub (local.get $c) (i32.const 48)) (i32.const 10)) (i32.lt_u (i32.sub (i32.or (local.get $c) (i32.const 32)) (i32.const 97)) (i32.const 26)))
                                       (i32.or (i32.eq (local.get $c) (i32.const 46)) (i32.eq (local.get $c) (i32.const 45)))))
                    (then (return (i32.const 0))))
                  (local.set $q (i32.add (local.get $q) (i32.const 1)))
                  (br $suffix))))))))
    (local.set $rec (call $alloc_bytes (i32.const 36)))
    (loop $part_loop
      (local.set $digits (i32.const 0))
      (local.set $part (i64.const 0))
      (block $part_done
        (loop $digit
          (br_if $part_done (i32.ge_u (local.get $p) (local.get $numbers_end)))
          (local.set $c (i32.load8_u (local.get $p)))
          (br_if $part_done (i32.eq (local.get $c) (i32.const 46)))
          (if (i32.eqz (i32.lt_u (i32.sub (local.get $c) (i32.const 48)) (i32.const 10))) (then (return (i32.const 0))))
          (local.set $part (i64.add (i64.mul (local.get $part) (i64.const 10)) (i64.extend_i32_u (i32.sub (local.get $c) (i32.const 48)))))
          (local.set $digits (i32.add (local.get $digits) (i32.const 1)))
          (if (i32.gt_u (local.get $digits) (i32.const 10)) (then (return (i32.const 0))))
          (local.set $p (i32.add (local.get $p) (i32.const 1)))
          (br $digit)))
      (if (i32.eqz (local.get $digits)) (then (return (i32.const 0))))
      (if (i64.gt_u (local.get $part) (i64.const 0xFFFFFFFF)) (then (return (i32.const 0))))
      (if (i32.ge_u (local.get $n) (i32.const 8)) (then (return (i32.const 0))))
      (i32.store offset=4 (i32.add (local.get $rec) (i32.shl (local.get $n) (i32.const 2))) (i32.wrap_i64 (local.get $part)))
      (local.set $n (i32.add (local.get $n) (i32.const 1)))
      (if (i32.lt_u (local.get $p) (local.get $numbers_end))
        (then (local.set $p (i32.add (local.get $p) (i32.const 1))) (br $part_loop))))
    (if (local.get $mode)
      (then (if (i32.or (i32.lt_u (local.get $n) (i32.const 3)) (i32.gt_u (local.get $n) (i32.const 4))) (then (return (i32.const 0))))))
    (i32.store (local.get $rec) (local.get $n))
    (local.get $rec))

  ;; Version::cmp_prefix: compares a cut to b's length (missing parts of a are 0). -1, 0 or 1.
  (func $vcmp (param $a i32) (param $b i32) (result i32)
    (local $k i32) (local $x i32) (local $y i32) (local $na i32) (local $nb i32)
    (local.set $na (i32.load (local.get $a)))
    (local.set $nb (i32.load (local.get $b)))
    (loop $next
      (if (i32.lt_u (local.get $k) (local.get $nb))
        (then
          (local.set $x (if (result i32) (i32.lt_u (local.get $k) (local.get $na))
            (then (i32.load offset=4 (i32.add (local.get $a) (i32.shl (local.get $k) (i32.const 2)))))
            (else (i32.const 0))))
          (local.set $y (i32.load offset=4 (i32.add (local.get $b) (i32.shl (local.get $k) (i32.const 2)))))
          (if (i32.lt_u (local.get $x) (local.get $y)) (then (return (i32.const -1))))
          (if (i32.gt_u (local.get $x) (local.get $y)) (then (return (i32.const 1))))
          (local.set $k (i32.add (local.get $k) (i32.const 1)))
          (br $next))))
    (i32.const 0))

  (func $two (param $p i32) (result i32)
    (i32.add (i32.mul (i32.sub (i32.load8_u (local.get $p)) (i32.const 48)) (i32.const 10))
             (i32.sub (i32.load8_u offset=1 (local.get $p)) (i32.const 48))))

  ;; Date::parse: days since 1970-01-01, or i32::MIN when malformed.
  (func $date (param $p i32) (param $len i32) (result i32)
    (local $k i32) (local $y i32) (local $m i32) (local $d i32) (local $dim i32) (local $era i32) (local $yoe i32) (local $doy i32) (local $mp i32)
    (if (i32.ne (local.get $len) (i32.const 10)) (then (return (i32.const 0x80000000))))
    (loop $next
      (if (i32.lt_u (local.get $k) (i32.const 10))
        (then
          (if (i32.or (i32.eq (local.get $k) (i32.const 4)) (i32.eq (local.get $k) (i32.const 7)))
            (then (if (i32.ne (i32.load8_u (i32.add (local.get $p) (local.get $k))) (i32.const 45)) (then (return (i32.const 0x80000000)))))
            (else (if (i32.eqz (call $is_digit (i32.load8_u (i32.add (local.get $p) (local.get $k))))) (then (return (i32.const 0x80000000))))))
          (local.set $k (i32.add (local.get $k) (i32.const 1)))
          (br $next))))
    (local.set $y (i32.add (i32.mul (call $two (local.get $p)) (i32.const 100)) (call $two (i32.add (local.get $p) (i32.const 2)))))
    (local.set $m (call $two (i32.add (local.get $p) (i32.const 5))))
    (local.set $d (call $two (i32.add (local.get $p) (i32.const 8))))
    (if (i32.or (i32.lt_s (local.get $m) (i32.const 1)) (i32.gt_s (local.get $m) (i32.const 12))) (then (return (i32.const 0x80000000))))
    (local.set $dim (i32.const 31))
    (if (i32.or (i32.or (i32.eq (local.get $m) (i32.const 4)) (i32.eq (local.get $m) (i32.const 6)))
                (i32.or (i32.eq (local.get $m) (i32.const 9)) (i32.eq (local.get $m) (i32.const 11))))
      (then (local.set $dim (i32.const 30))))
    (if (i32.eq (local.get $m) (i32.const 2))
      (then (local.set $dim
        (select (i32.const 29) (i32.const 28)
          (i32.or (i32.and (i32.eqz (i32.rem_s (local.get $y) (i32.const 4))) (i32.ne (i32.rem_s (local.get $y) (i32.const 100)) (i32.const 0)))
                  (i32.eqz (i32.rem_s (local.get $y) (i32.const 400))))))))
    (if (i32.or (i32.lt_s (local.get $d) (i32.const 1)) (i32.gt_s (local.get $d) (local.get $dim))) (then (return (i32.const 0x80000000))))
    ;; days_from_civil (years are 0..=9999, so no negative eras).
    (if (i32.le_s (local.get $m) (i32.const 2)) (then (local.set $y (i32.sub (local.get $y) (i32.const 1)))))
    (local.set $era (i32.div_s (select (local.get $y) (i32.sub (local.get $y) (i32.const 399)) (i32.ge_s (local.get $y) (i32.const 0))) (i32.const 400)))
    (local.set $yoe (i32.sub (local.get $y) (i32.mul (local.get $era) (i32.const 400))))
    (local.set $mp (i32.rem_s (i32.add (local.get $m) (i32.const 9)) (i32.const 12)))
    (local.set $doy (i32.sub (i32.add (i32.div_s (i32.add (i32.mul (i32.const 153) (local.get $mp)) (i32.const 2)) (i32.const 5)) (local.get $d)) (i32.const 1)))
    (i32.sub
      (i32.add (i32.mul (local.get $era) (i32.const 146097))
        (i32.add (i32.sub (i32.add (i32.mul (local.get $yoe) (i32.const 365)) (i32.div_s (local.get $yoe) (i32.const 4))) (i32.div_s (local.get $yoe) (i32.const 100)))
                 (local.get $doy)))
      (i32.const 719468)))

  ;; char::is_whitespace (Unicode White_Space) on valid UTF-8: the byte length of the White_Space
  ;; character at $q when it is exactly $n bytes long (1, 2 or 3), else 0. The set: U+0009-000D,
  ;; U+0020, U+0085, U+00A0, U+1680, U+2000-200A, U+2028, U+2029, U+202F, U+205F, U+3000.
  (func $white_space (param $q i32) (param $n i32) (result i32)
    (local $c i32) (local $c1 i32) (local $c2 i32)
    (local.set $c (i32.load8_u (local.get $q)))
    (if (i32.eq (local.get $n) (i32.const 1))
      (then (return (select (i32.const 1) (i32.const 0)
        (i32.or (i32.eq (local.get $c) (i32.const 32))
                (i32.lt_u (i32.sub (local.get $c) (i32.const 9)) (i32.const 5)))))))
    (local.set $c1 (i32.load8_u offset=1 (local.get $q)))
    (if (i32.eq (local.get $n) (i32.const 2))
      (then (return (select (i32.const 2) (i32.const 0)
        (i32.and (i32.eq (local.get $c) (i32.const 0xC2))
                 (i32.or (i32.eq (local.get $c1) (i32.const 0x85)) (i32.eq (local.get $c1) (i32.const 0xA0))))))))
    (local.set $c2 (i32.load8_u offset=2 (local.get $q)))
    (if (i32.eq (local.get $c) (i32.const 0xE1))
      (then (return (select (i32.const 3) (i32.const 0)
        (i32.and (i32.eq (local.get $c1) (i32.const 0x9A)) (i32.eq (local.get $c2) (i32.const 0x80)))))))
    (if (i32.eq (local.get $c) (i32.const 0xE3))
      (then (return (select (i32.const 3) (i32.const 0)
        (i32.and (i32.eq (local.get $c1) (i32.const 0x80)) (i32.eq (local.get $c2) (i32.const 0x80)))))))
    (if (i32.ne (local.get $c) (i32.const 0xE2)) (then (return (i32.const 0))))
    (if (i32.eq (local.get $c1) (i32.const 0x81))
      (then (return (select (i32.const 3) (i32.const 0) (i32.eq (local.get $c2) (i32.const 0x9F))))))
    (if (i32.ne (local.get $c1) (i32.const 0x80)) (then (return (i32.const 0))))
    (select (i32.const 3) (i32.const 0)
      (i32.or (i32.le_u (local.get $c2) (i32.const 0x8A))
        (i32.or (i32.or (i32.eq (local.get $c2) (i32.const 0xA8)) (i32.eq (local.get $c2) (i32.const 0xA9)))
                (i32.eq (local.get $c2) (i32.const 0xAF))))))

  ;; str::trim: the White_Space characters at the start of [$p, $e), as a byte count.
  (func $trim_start_len (param $p i32) (param $e i32) (result i32)
    (local $at i32) (local $n i32) (local $k i32)
    (local.set $at (local.get $p))
    (block $done
      (loop $next
        (local.set $k (i32.const 0))
        (local.set $n (i32.const 1))
        (loop $size
          (if (i32.le_u (i32.add (local.get $at) (local.get $n)) (local.get $e))
            (then
              (local.set $k (call $white_space (local.get $at) (local.get $n)))
              (if (i32.and (i32.eqz (local.get $k)) (i32.lt_u (local.get $n) (i32.const 3)))
                (then (local.set $n (i32.add (local.get $n) (i32.const 1))) (br $size))))))
        (br_if $done (i32.eqz (local.get $k)))
        (local.set $at (i32.add (local.get $at) (local.get $k)))
        (br $next)))
    (i32.sub (local.get $at) (local.get $p)))

  ;; str::trim: the White_Space characters at the end of [$p, $e), as a byte count. Valid UTF-8
  ;; lets a character be recognised from its last bytes: a continuation byte never starts one.
  (func $trim_end_len (param $p i32) (param $e i32) (result i32)
    (local $at i32) (local $n i32) (local $k i32)
    (local.set $at (local.get $e))
    (block $done
      (loop $next
        (local.set $k (i32.const 0))
        (local.set $n (i32.const 1))
        (loop $size
          (if (i32.ge_u (i32.sub (local.get $at) (local.get $p)) (local.get $n))
            (then
              (local.set $k (call $white_space (i32.sub (local.get $at) (local.get $n)) (local.get $n)))
              (if (i32.and (i32.eqz (local.get $k)) (i32.lt_u (local.get $n) (i32.const 3)))
                (then (local.set $n (i32.add (local.get $n) (i32.const 1))) (br $size))))))
        (br_if $done (i32.eqz (local.get $k)))
        (local.set $at (i32.sub (local.get $at) (local.get $k)))
        (br $next)))
    (i32.sub (local.get $e) (local.get $at)))

  ;; Kb::parse: the KB number, or -1. Trims as str::trim does (Unicode White_Space).
  (func $kb (param $p i32) (param $len i32) (result i32)
    (local $e i32) (local $n i32) (local $k i32)
    (local.set $e (i32.add (local.get $p) (local.get $len)))
    (local.set $p (i32.add (local.get $p) (call $trim_start_len (local.get $p) (local.get $e))))
    (local.set $e (i32.sub (local.get $e) (call $trim_end_len (local.get $p) (local.get $e))))
    (if (i32.ge_u (i32.sub (local.get $e) (local.get $p)) (i32.const 2))
      (then
        (if (i32.and (i32.eq (i32.or (i32.load8_u (local.get $p)) (i32.const 32)) (i32.const 107))
                     (i32.eq (i32.or (i32.load8_u offset=1 (local.get $p)) (i32.const 32)) (i32.const 98)))
          (then (local.set $p (i32.add (local.get $p) (i32.const 2)))))))
    (local.set $k (i32.sub (local.get $e) (local.get $p)))
    (if (i32.or (i32.lt_u (local.get $k) (i32.const 6)) (i32.gt_u (local.get $k) (i32.const 7))) (then (return (i32.const -1))))
    (loop $next
      (if (i32.lt_u (local.get $p) (local.get $e))
        (then
          (if (i32.eqz (call $is_digit (i32.load8_u (local.get $p)))) (then (return (i32.const -1))))
          (local.set $n (i32.add (i32.mul (local.get $n) (i32.const 10)) (i32.sub (i32.load8_u (local.get $p)) (i32.const 48))))
          (local.set $p (i32.add (local.get $p) (i32.const 1)))
          (br $next))))
    (local.get $n))

  ;; Json::as_i64 on number node i: the value, with $err set to 0 (ok) or 1 (not an i64).
  (func $int (param $i i32) (result i64)
    (local $p i32) (local $e i32) (local $neg i32) (local $v i64) (local $d i64) (local $c i32)
    (global.set $err (i32.const 1))
    (local.set $p (call $start (local.get $i)))
    (local.set $e (call $end (local.get $i)))
    (if (i32.eq (i32.load8_u (local.get $p)) (i32.const 45))
      (then (local.set $neg (i32.const 1)) (local.set $p (i32.add (local.get $p) (i32.const 1)))))
    (loop $next
      (if (i32.lt_u (local.get $p) (local.get $e))
        (then
          (local.set $c (i32.load8_u (local.get $p)))
          (if (i32.eqz (i32.lt_u (i32.sub (local.get $c) (i32.const 48)) (i32.const 10))) (then (return (i64.const 0))))
          (local.set $d (i64.extend_i32_u (i32.sub (local.get $c) (i32.const 48))))
          ;; Accumulate negatively so that i64::MIN fits.
          (if (i64.lt_s (local.get $v) (i64.div_s (i64.add (i64.const 0x8000000000000000) (local.get $d)) (i64.const 10)))
            (then (return (i64.const 0))))
          (local.set $v (i64.sub (i64.mul (local.get $v) (i64.const 10)) (local.get $d)))
          (local.set $p (i32.add (local.get $p) (i32.const 1)))
          (br $next))))
    (if (i32.eqz (local.get $neg))
      (then
        (if (i64.eq (local.get $v) (i64.const 0x8000000000000000)) (then (return (i64.const 0))))
        (local.set $v (i64.sub (i64.const 0) (local.get $v)))))
    (global.set $err (i32.const 0))
    (local.get $v))

  (func $kbs_has (param $p i32) (param $n i32) (param $kb i32) (result i32)
    (local $k i32)
    (loop $next
      (if (i32.lt_u (local.get $k) (local.get $n))
        (then
          (if (i32.eq (i32.load (i32.add (local.get $p) (i32.shl (local.get $k) (i32.const 2)))) (local.get $kb))
            (then (return (i32.const 1))))
          (local.set $k (i32.add (local.get $k) (i32.const 1)))
          (br $next))))
    (i32.const 0))

  ;; ------------------------------------------------------------------ output (serde_json's escaping)

  (func $out_start
    (global.set $out (call $alloc_bytes (i32.const 0)))
    (global.set $out_end (global.get $out)))

  (func $out_byte (param $b i32)
    (global.set $bump (global.get $out_end))
    (call $reserve (i32.const 1))
    (i32.store8 (global.get $out_end) (local.get $b))
    (global.set $out_end (i32.add (global.get $out_end) (i32.const 1)))
    (global.set $bump (global.get $out_end)))

  (func $out_bytes (param $p i32) (param $n i32)
    (global.set $bump (global.get $out_end))
    (call $reserve (local.get $n))
    (memory.copy (global.get $out_end) (local.get $p) (local.get $n))
    (global.set $out_end (i32.add (global.get $out_end) (local.get $n)))
    (global.set $bump (global.get $out_end)))

  ;; Writes bytes as the inside of a JSON string, escaped as serde_json escapes.
  (func $out_escaped (param $p i32) (param $n i32)
    (local $k i32) (local $c i32) (local $short i32) (local $o i32)
    ;; At most 6 bytes per input byte (\u00XX): reserve once, then write in place.
    (global.set $bump (global.get $out_end))
    (call $reserve (i32.mul (local.get $n) (i32.const 6)))
    (local.set $o (global.get $out_end))
    (loop $next
      (if (i32.lt_u (local.get $k) (local.get $n))
        (then
          (local.set $c (i32.load8_u (i32.add (local.get $p) (local.get $k))))
          (local.set $k (i32.add (local.get $k) (i32.const 1)))
          (if (i32.or (i32.eq (local.get $c) (i32.const 34)) (i32.eq (local.get $c) (i32.const 92)))
            (then
              (i32.store8 (local.get $o) (i32.const 92))
              (i32.store8 offset=1 (local.get $o) (local.get $c))
              (local.set $o (i32.add (local.get $o) (i32.const 2)))
              (br $next)))
          (if (i32.ge_u (local.get $c) (i32.const 32))
            (then
              (i32.store8 (local.get $o) (local.get $c))
              (local.set $o (i32.add (local.get $o) (i32.const 1)))
              (br $next)))
          ;; A control character: \b \t \n \f \r, or \u00XX.
          (i32.store8 (local.get $o) (i32.const 92))
          (local.set $short (i32.load8_u offset=32 (local.get $c)))
          (if (local.get $short)
            (then
              (i32.store8 offset=1 (local.get $o) (local.get $short))
              (local.set $o (i32.add (local.get $o) (i32.const 2))))
            (else
              ;; "u00" then the two hex digits (the store's fourth byte is overwritten).
              (i32.store offset=1 (local.get $o) (i32.const 0x30303075))
              (i32.store8 offset=4 (local.get $o) (i32.load8_u offset=16 (i32.shr_u (local.get $c) (i32.const 4))))
              (i32.store8 offset=5 (local.get $o) (i32.load8_u offset=16 (i32.and (local.get $c) (i32.const 15))))
              (local.set $o (i32.add (local.get $o) (i32.const 6)))))
          (br $next))))
    (global.set $out_end (local.get $o))
    (global.set $bump (local.get $o)))

  (func $out_u64 (param $v i64)
    (if (i64.ge_u (local.get $v) (i64.const 10)) (then (call $out_u64 (i64.div_u (local.get $v) (i64.const 10)))))
    (call $out_byte (i32.add (i32.const 48) (i32.wrap_i64 (i64.rem_u (local.get $v) (i64.const 10))))))

  (func $out_i64 (param $v i64)
    (if (i64.lt_s (local.get $v) (i64.const 0))
      (then
        (call $out_byte (i32.const 45))
        ;; i64::MIN's magnitude does not fit i64 but does fit u64.
        (call $out_u64 (i64.sub (i64.const 0) (local.get $v))))
      (else (call $out_u64 (local.get $v)))))

  (func $out_version (param $rec i32)
    (local $k i32) (local $n i32)
    (local.set $n (i32.load (local.get $rec)))
    (loop $next
      (if (i32.lt_u (local.get $k) (local.get $n))
        (then
          (if (local.get $k) (then (call $out_byte (i32.const 46))))
          (call $out_u64 (i64.extend_i32_u (i32.load offset=4 (i32.add (local.get $rec) (i32.shl (local.get $k) (i32.const 2))))))
          (local.set $k (i32.add (local.get $k) (i32.const 1)))
          (br $next)))))

;; Writes n (0 <= n < 10^width) with `width` digits, zero-padded.
  (func $out_padded (param $n i32) (param $width i32)
    (if (i32.gt_u (local.get $width) (i32.const 1))
      (then (call $out_padded (i32.div_u (local.get $n) (i32.const 10)) (i32.sub (local.get $width) (i32.const 1)))))
    (call $out_byte (i32.add (i32.const 48) (i32.rem_u (local.get $n) (i32.const 10)))))

  ;; Date's Display: days since 1970-01-01 as YYYY-MM-DD (civil_from_days).
  (func $out_date (param $z i32)
    (local $era i32) (local $doe i32) (local $yoe i32) (local $doy i32) (local $mp i32) (local $d i32) (local $m i32) (local $y i32)
    (local.set $z (i32.add (local.get $z) (i32.const 719468)))
    (local.set $era (i32.div_s (select (local.get $z) (i32.sub (local.get $z) (i32.const 146096)) (i32.ge_s (local.get $z) (i32.const 0))) (i32.const 146097)))
    (local.set $doe (i32.sub (local.get $z) (i32.mul (local.get $era) (i32.const 146097))))
    (local.set $yoe (i32.div_s
      (i32.sub (i32.add (i32.sub (local.get $doe) (i32.div_s (local.get $doe) (i32.const 1460))) (i32.div_s (local.get $doe) (i32.const 36524)))
               (i32.div_s (local.get $doe) (i32.const 146096)))
      (i32.const 365)))
    (local.set $doy (i32.sub (local.get $doe)
      (i32.sub (i32.add (i32.mul (i32.const 365) (local.get $yoe)) (i32.div_s (local.get $yoe) (i32.const 4))) (i32.div_s (local.get $yoe) (i32.const 100)))))
    (local.set $mp (i32.div_s (i32.add (i32.mul (i32.const 5) (local.get $doy)) (i32.const 2)) (i32.const 153)))
    (local.set $d (i32.add (i32.sub (local.get $doy) (i32.div_s (i32.add (i32.mul (i32.const 153) (local.get $mp)) (i32.const 2)) (i32.const 5))) (i32.const 1)))
    (local.set $m (select (i32.add (local.get $mp) (i32.const 3)) (i32.sub (local.get $mp) (i32.const 9)) (i32.lt_s (local.get $mp) (i32.const 10))))
    (local.set $y (i32.add (i32.add (local.get $yoe) (i32.mul (local.get $era) (i32.const 400))) (i32.le_s (local.get $m) (i32.const 2))))
    (call $out_padded (local.get $y) (i32.const 4))
    (call $out_byte (i32.const 45))
    (call $out_padded (local.get $m) (i32.const 2))
    (call $out_byte (i32.const 45))
    (call $out_padded (local.get $d) (i32.const 2)))

  ;; ------------------------------------------------------------------ links
  ;; The generated code finds these by name; the module exports only memory, alloc and the
  ;; generated entry points (the linker drops every "f." and "g." export).
  (export "alloc" (func $alloc_input))
  (export "f.reserve" (func $reserve))
  (export "f.alloc_bytes" (func $alloc_bytes))
  (export "f.utf8_check" (func $utf8_check))
  (export "f.parse" (func $parse))
  (export "f.kind" (func $kind))
  (export "f.start" (func $start))
  (export "f.end" (func $end))
  (export "f.escaped" (func $escaped))
  (export "f.skip" (func $skip))
  (export "f.decode" (func $decode))
  (export "f.get" (func $get))
  (export "f.bytes_eq" (func $bytes_eq))
  (export "f.version" (func $version))
  (export "f.vcmp" (func $vcmp))
  (export "f.date" (func $date))
  (export "f.kb" (func $kb))
  (export "f.int" (func $int))
  (export "f.kbs_has" (func $kbs_has))
  (export "f.out_start" (func $out_start))
  (export "f.out_bytes" (func $out_bytes))
  (export "f.out_escaped" (func $out_escaped))
  (export "f.out_u64" (func $out_u64))
  (export "f.out_i64" (func $out_i64))
  (export "f.out_version" (func $out_version))
  (export "f.out_date" (func $out_date))
  (export "g.heap_base" (global $heap_base))
  (export "g.bump" (global $bump))
  (export "g.in" (global $in))
  (export "g.tape" (global $tape))
  (export "g.in_len" (global $in_len))
  (export "g.date" (global $date))
  (export "g.err" (global $err))
  (export "g.out" (global $out))
  (export "g.out_end" (global $out_end))
)

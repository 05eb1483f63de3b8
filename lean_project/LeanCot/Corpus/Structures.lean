/-
LeanCot corpus: small structures and inductive types of our own.
Core Lean 4 only (no Mathlib). Every proof is a tactic proof.
-/

namespace LeanCot.Corpus.Structures

/-! ## Points in the plane (natural coordinates) -/

/-- A point with natural-number coordinates. -/
structure Point where
  x : Nat
  y : Nat

namespace Point

/-- Componentwise addition. -/
def add (p q : Point) : Point := ⟨p.x + q.x, p.y + q.y⟩

/-- The origin. -/
def origin : Point := ⟨0, 0⟩

/-- Swap the coordinates. -/
def swap (p : Point) : Point := ⟨p.y, p.x⟩

/-- Scale both coordinates. -/
def scale (k : Nat) (p : Point) : Point := ⟨k * p.x, k * p.y⟩

/-- Manhattan norm. -/
def norm1 (p : Point) : Nat := p.x + p.y

theorem add_x (p q : Point) : (add p q).x = p.x + q.x := by
  rfl

theorem swap_swap (p : Point) : swap (swap p) = p := by
  rfl

theorem add_origin (p : Point) : add p origin = p := by
  cases p with
  | mk a b => rfl

theorem origin_add (p : Point) : add origin p = p := by
  cases p with
  | mk a b =>
    simp [add, origin]

theorem add_comm (p q : Point) : add p q = add q p := by
  cases p
  cases q
  simp only [add, mk.injEq]
  constructor <;> omega

theorem add_assoc (p q r : Point) : add (add p q) r = add p (add q r) := by
  simp only [add, mk.injEq]
  omega

theorem swap_add (p q : Point) : swap (add p q) = add (swap p) (swap q) := by
  rfl

theorem norm1_swap (p : Point) : norm1 (swap p) = norm1 p := by
  unfold norm1 swap
  dsimp only
  omega

theorem norm1_add (p q : Point) : norm1 (add p q) = norm1 p + norm1 q := by
  simp only [norm1, add]
  omega

theorem norm1_scale (k : Nat) (p : Point) : norm1 (scale k p) = k * norm1 p := by
  simp only [norm1, scale]
  rw [Nat.mul_add]

theorem scale_one (p : Point) : scale 1 p = p := by
  simp [scale]

theorem scale_add (k : Nat) (p q : Point) : scale k (add p q) = add (scale k p) (scale k q) := by
  simp only [scale, add, mk.injEq]
  constructor
  · rw [Nat.mul_add]
  · rw [Nat.mul_add]

theorem norm1_eq_zero_iff (p : Point) : norm1 p = 0 ↔ p = origin := by
  cases p with
  | mk a b =>
    simp only [norm1, origin, mk.injEq]
    omega

theorem ext_iff' (p q : Point) : p = q ↔ p.x = q.x ∧ p.y = q.y := by
  constructor
  · intro h
    rw [h]
    exact ⟨rfl, rfl⟩
  · intro ⟨hx, hy⟩
    cases p
    cases q
    simp only at hx hy
    rw [hx, hy]

theorem example_add : add ⟨1, 2⟩ ⟨3, 4⟩ = ⟨4, 6⟩ := by
  rfl

end Point

/-! ## A traffic-light enumeration -/

/-- Colours of a traffic light. -/
inductive Light where
  | red
  | yellow
  | green

namespace Light

/-- The next colour. -/
def next : Light → Light
  | red => green
  | green => yellow
  | yellow => red

/-- Is it safe to drive? -/
def go : Light → Bool
  | green => true
  | _ => false

theorem next_red : next red = green := by
  rfl

theorem next_next_next (l : Light) : next (next (next l)) = l := by
  cases l <;> rfl

theorem next_ne_self (l : Light) : next l ≠ l := by
  cases l <;> simp [next]

theorem go_iff (l : Light) : go l = true ↔ l = green := by
  cases l <;> simp [go]

theorem go_next_of_red (l : Light) (h : l = red) : go (next l) = true := by
  subst h
  rfl

theorem exists_go : ∃ l : Light, go l = true := by
  exists green

theorem next_injective (a b : Light) (h : next a = next b) : a = b := by
  cases a <;> cases b <;> first
    | rfl
    | simp [next] at h

end Light

/-! ## Binary trees -/

/-- A binary tree with values at the nodes. -/
inductive Tree where
  | leaf : Tree
  | node : Tree → Nat → Tree → Tree

namespace Tree

/-- Number of nodes. -/
def size : Tree → Nat
  | leaf => 0
  | node l _ r => size l + 1 + size r

/-- Height. -/
def height : Tree → Nat
  | leaf => 0
  | node l _ r => max (height l) (height r) + 1

/-- Number of leaves. -/
def leaves : Tree → Nat
  | leaf => 1
  | node l _ r => leaves l + leaves r

/-- Mirror image. -/
def mirror : Tree → Tree
  | leaf => leaf
  | node l v r => node (mirror r) v (mirror l)

/-- Sum of the values. -/
def sum : Tree → Nat
  | leaf => 0
  | node l v r => sum l + v + sum r

/-- Apply a function to every value. -/
def map (f : Nat → Nat) : Tree → Tree
  | leaf => leaf
  | node l v r => node (map f l) (f v) (map f r)

/-- In-order traversal onto an accumulator. -/
def toListAcc : Tree → List Nat → List Nat
  | leaf, acc => acc
  | node l v r, acc => toListAcc l (v :: toListAcc r acc)

/-- In-order traversal. -/
def toList (t : Tree) : List Nat := toListAcc t []

/-- Does a value occur in the tree? -/
def contains (a : Nat) : Tree → Prop
  | leaf => False
  | node l v r => contains a l ∨ a = v ∨ contains a r

/-- A small example tree. -/
def example3 : Tree := node (node leaf 1 leaf) 2 (node leaf 3 leaf)

theorem size_example3 : size example3 = 3 := by
  rfl

theorem sum_example3 : sum example3 = 6 := by
  decide

theorem toList_example3 : toList example3 = [1, 2, 3] := by
  rfl

theorem height_example3 : height example3 = 2 := by
  decide

theorem mirror_leaf : mirror leaf = leaf := by
  rfl

theorem mirror_mirror (t : Tree) : mirror (mirror t) = t := by
  induction t with
  | leaf => rfl
  | node l v r ihl ihr =>
    simp only [mirror]
    rw [ihl, ihr]

theorem size_mirror (t : Tree) : size (mirror t) = size t := by
  induction t with
  | leaf => rfl
  | node l v r ihl ihr =>
    simp only [mirror, size]
    rw [ihl, ihr]
    omega

theorem height_mirror (t : Tree) : height (mirror t) = height t := by
  induction t with
  | leaf => rfl
  | node l v r ihl ihr =>
    simp only [mirror, height]
    rw [ihl, ihr, Nat.max_comm]

theorem sum_mirror (t : Tree) : sum (mirror t) = sum t := by
  induction t with
  | leaf => rfl
  | node l v r ihl ihr =>
    simp only [mirror, sum]
    omega

theorem leaves_eq_size_succ (t : Tree) : leaves t = size t + 1 := by
  induction t with
  | leaf => rfl
  | node l v r ihl ihr =>
    simp only [leaves, size]
    omega

theorem size_map (f : Nat → Nat) (t : Tree) : size (map f t) = size t := by
  induction t with
  | leaf => rfl
  | node l v r ihl ihr =>
    simp [map, size, ihl, ihr]

theorem map_id (t : Tree) : map id t = t := by
  induction t with
  | leaf => rfl
  | node l v r ihl ihr =>
    simp only [map]
    rw [ihl, ihr]
    rfl

theorem map_comp (f g : Nat → Nat) (t : Tree) : map g (map f t) = map (g ∘ f) t := by
  induction t with
  | leaf => rfl
  | node l v r ihl ihr =>
    simp only [map]
    rw [ihl, ihr]
    rfl

theorem mirror_map (f : Nat → Nat) (t : Tree) : mirror (map f t) = map f (mirror t) := by
  induction t with
  | leaf => rfl
  | node l v r ihl ihr =>
    simp [mirror, map, ihl, ihr]

theorem sum_map_double (t : Tree) : sum (map (fun x => 2 * x) t) = 2 * sum t := by
  induction t with
  | leaf => rfl
  | node l v r ihl ihr =>
    simp only [map, sum]
    rw [ihl, ihr]
    omega

theorem height_le_size (t : Tree) : height t ≤ size t := by
  induction t with
  | leaf => exact Nat.le_refl 0
  | node l v r ihl ihr =>
    simp only [height, size]
    have h : max (height l) (height r) ≤ size l + size r := by
      rcases Nat.le_total (height l) (height r) with hle | hle
      · rw [Nat.max_eq_right hle]
        omega
      · rw [Nat.max_eq_left hle]
        omega
    omega

theorem size_lt_two_pow_height (t : Tree) : size t < 2 ^ height t := by
  induction t with
  | leaf => decide
  | node l v r ihl ihr =>
    simp only [size, height]
    have hl : 2 ^ height l ≤ 2 ^ max (height l) (height r) :=
      Nat.pow_le_pow_right (by decide) (Nat.le_max_left _ _)
    have hr : 2 ^ height r ≤ 2 ^ max (height l) (height r) :=
      Nat.pow_le_pow_right (by decide) (Nat.le_max_right _ _)
    rw [Nat.pow_succ]
    omega

theorem toListAcc_length (t : Tree) (acc : List Nat) :
    (toListAcc t acc).length = size t + acc.length := by
  induction t generalizing acc with
  | leaf =>
    simp [toListAcc, size]
  | node l v r ihl ihr =>
    simp only [toListAcc, size]
    rw [ihl, List.length_cons, ihr]
    omega

theorem toList_length (t : Tree) : (toList t).length = size t := by
  unfold toList
  rw [toListAcc_length]
  rfl

theorem toListAcc_eq_append (t : Tree) (acc : List Nat) :
    toListAcc t acc = toListAcc t [] ++ acc := by
  induction t generalizing acc with
  | leaf => rfl
  | node l v r ihl ihr =>
    simp only [toListAcc]
    rw [ihl, ihl (v :: toListAcc r [])]
    rw [ihr]
    simp

theorem contains_mirror (a : Nat) (t : Tree) : contains a (mirror t) ↔ contains a t := by
  induction t with
  | leaf => exact Iff.rfl
  | node l v r ihl ihr =>
    simp only [mirror, contains]
    rw [ihl, ihr]
    constructor
    · rintro (h | h | h)
      · exact Or.inr (Or.inr h)
      · exact Or.inr (Or.inl h)
      · exact Or.inl h
    · rintro (h | h | h)
      · exact Or.inr (Or.inr h)
      · exact Or.inr (Or.inl h)
      · exact Or.inl h

theorem contains_le_sum (a : Nat) (t : Tree) (h : contains a t) : a ≤ sum t := by
  induction t with
  | leaf => exact h.elim
  | node l v r ihl ihr =>
    simp only [sum]
    rcases h with hl | hv | hr
    · have := ihl hl
      omega
    · omega
    · have := ihr hr
      omega

theorem contains_map (f : Nat → Nat) (a : Nat) (t : Tree) (h : contains a t) :
    contains (f a) (map f t) := by
  induction t with
  | leaf => exact h
  | node l v r ihl ihr =>
    simp only [map, contains]
    rcases h with hl | hv | hr
    · left
      exact ihl hl
    · right
      left
      rw [hv]
    · right
      right
      exact ihr hr

theorem size_pos_of_contains (a : Nat) (t : Tree) (h : contains a t) : 0 < size t := by
  cases t with
  | leaf => contradiction
  | node l v r =>
    simp only [size]
    omega

end Tree

/-! ## Arithmetic expressions -/

/-- Arithmetic expressions over naturals with variables. -/
inductive Expr where
  | num : Nat → Expr
  | var : Nat → Expr
  | add : Expr → Expr → Expr
  | mul : Expr → Expr → Expr

namespace Expr

/-- Evaluate under an environment. -/
def eval (env : Nat → Nat) : Expr → Nat
  | num n => n
  | var i => env i
  | add a b => eval env a + eval env b
  | mul a b => eval env a * eval env b

/-- Simplify additions of zero and multiplications by one on the left. -/
def simpZero : Expr → Expr
  | add (num 0) b => simpZero b
  | mul (num 1) b => simpZero b
  | add a b => add (simpZero a) (simpZero b)
  | mul a b => mul (simpZero a) (simpZero b)
  | e => e

/-- Fold constant subexpressions. -/
def constFold : Expr → Expr
  | num n => num n
  | var i => var i
  | add a b =>
    match constFold a, constFold b with
    | num m, num n => num (m + n)
    | a', b' => add a' b'
  | mul a b =>
    match constFold a, constFold b with
    | num m, num n => num (m * n)
    | a', b' => mul a' b'

/-- Number of constructors. -/
def size : Expr → Nat
  | num _ => 1
  | var _ => 1
  | add a b => size a + size b + 1
  | mul a b => size a + size b + 1

/-- Does the expression mention no variable? -/
def closed : Expr → Bool
  | num _ => true
  | var _ => false
  | add a b => closed a && closed b
  | mul a b => closed a && closed b

/-- Swap the operands of every operator. -/
def swapArgs : Expr → Expr
  | add a b => add (swapArgs b) (swapArgs a)
  | mul a b => mul (swapArgs b) (swapArgs a)
  | e => e

theorem eval_example : eval (fun _ => 5) (add (num 2) (mul (var 0) (num 3))) = 17 := by
  rfl

theorem eval_add (env : Nat → Nat) (a b : Expr) :
    eval env (add a b) = eval env a + eval env b := by
  rfl

theorem constFold_example : constFold (add (num 2) (num 3)) = num 5 := by
  rfl

theorem size_pos (e : Expr) : 0 < size e := by
  cases e <;> simp [size]

theorem swapArgs_swapArgs (e : Expr) : swapArgs (swapArgs e) = e := by
  induction e with
  | num n => rfl
  | var i => rfl
  | add a b iha ihb =>
    simp only [swapArgs]
    rw [iha, ihb]
  | mul a b iha ihb =>
    simp only [swapArgs]
    rw [iha, ihb]

theorem eval_swapArgs (env : Nat → Nat) (e : Expr) : eval env (swapArgs e) = eval env e := by
  induction e with
  | num n => rfl
  | var i => rfl
  | add a b iha ihb =>
    simp only [swapArgs, eval]
    rw [iha, ihb]
    exact Nat.add_comm _ _
  | mul a b iha ihb =>
    simp only [swapArgs, eval]
    rw [iha, ihb]
    exact Nat.mul_comm _ _

theorem size_swapArgs (e : Expr) : size (swapArgs e) = size e := by
  induction e with
  | num n => rfl
  | var i => rfl
  | add a b iha ihb =>
    simp only [swapArgs, size]
    omega
  | mul a b iha ihb =>
    simp only [swapArgs, size]
    omega

theorem eval_closed (e : Expr) (h : closed e = true) (env₁ env₂ : Nat → Nat) :
    eval env₁ e = eval env₂ e := by
  induction e with
  | num n => rfl
  | var i => simp [closed] at h
  | add a b iha ihb =>
    simp only [closed, Bool.and_eq_true] at h
    simp only [eval]
    rw [iha h.1, ihb h.2]
  | mul a b iha ihb =>
    simp only [closed, Bool.and_eq_true] at h
    simp only [eval]
    rw [iha h.1, ihb h.2]

theorem eval_simpZero (env : Nat → Nat) (e : Expr) : eval env (simpZero e) = eval env e := by
  induction e with
  | num n => rfl
  | var i => rfl
  | add a b iha ihb =>
    cases a with
    | num n =>
      cases n with
      | zero =>
        simp only [simpZero, eval]
        rw [ihb]
        simp
      | succ k =>
        simp only [simpZero, eval]
        rw [ihb]
    | var i =>
      simp only [simpZero, eval]
      rw [ihb]
    | add c d =>
      simp only [simpZero, eval] at iha ⊢
      rw [iha, ihb]
    | mul c d =>
      simp only [simpZero, eval] at iha ⊢
      rw [iha, ihb]
  | mul a b iha ihb =>
    cases a with
    | num n =>
      by_cases hn : n = 1
      · subst hn
        simp only [simpZero, eval]
        rw [ihb]
        simp
      · have hs : simpZero (mul (num n) b) = mul (num n) (simpZero b) := by
          rcases n with _ | _ | m
          · rfl
          · contradiction
          · rfl
        rw [hs]
        simp only [eval]
        rw [ihb]
    | var i =>
      simp only [simpZero, eval]
      rw [ihb]
    | add c d =>
      simp only [simpZero, eval] at iha ⊢
      rw [iha, ihb]
    | mul c d =>
      simp only [simpZero, eval] at iha ⊢
      rw [iha, ihb]

theorem eval_constFold (env : Nat → Nat) (e : Expr) : eval env (constFold e) = eval env e := by
  induction e with
  | num n => rfl
  | var i => rfl
  | add a b iha ihb =>
    simp only [constFold]
    split
    · next m n hm hn =>
      rw [hm] at iha
      rw [hn] at ihb
      simp only [eval] at iha ihb ⊢
      rw [iha, ihb]
    · simp only [eval]
      rw [iha, ihb]
  | mul a b iha ihb =>
    simp only [constFold]
    split
    · next m n hm hn =>
      rw [hm] at iha
      rw [hn] at ihb
      simp only [eval] at iha ihb ⊢
      rw [iha, ihb]
    · simp only [eval]
      rw [iha, ihb]

end Expr

/-! ## A stack machine and a verified compiler -/

/-- Stack-machine instructions. -/
inductive Instr where
  | push : Nat → Instr
  | load : Nat → Instr
  | add : Instr
  | mul : Instr

/-- Run a program on a stack. -/
def run (env : Nat → Nat) : List Instr → List Nat → List Nat
  | [], s => s
  | Instr.push n :: p, s => run env p (n :: s)
  | Instr.load i :: p, s => run env p (env i :: s)
  | Instr.add :: p, b :: a :: s => run env p ((a + b) :: s)
  | Instr.mul :: p, b :: a :: s => run env p ((a * b) :: s)
  | _ :: p, s => run env p s

/-- Compile an expression, prepending its code to the continuation `k`. -/
def compile : Expr → List Instr → List Instr
  | Expr.num n, k => Instr.push n :: k
  | Expr.var i, k => Instr.load i :: k
  | Expr.add a b, k => compile a (compile b (Instr.add :: k))
  | Expr.mul a b, k => compile a (compile b (Instr.mul :: k))

theorem compile_example :
    run (fun _ => 0) (compile (Expr.add (Expr.num 2) (Expr.num 3)) []) [] = [5] := by
  rfl

theorem run_push (env : Nat → Nat) (n : Nat) (p : List Instr) (s : List Nat) :
    run env (Instr.push n :: p) s = run env p (n :: s) := by
  rfl

theorem compile_correct (env : Nat → Nat) (e : Expr) (k : List Instr) (s : List Nat) :
    run env (compile e k) s = run env k (Expr.eval env e :: s) := by
  induction e generalizing k s with
  | num n => rfl
  | var i => rfl
  | add a b iha ihb =>
    simp only [compile, Expr.eval]
    rw [iha, ihb]
    rfl
  | mul a b iha ihb =>
    simp only [compile, Expr.eval]
    rw [iha, ihb]
    rfl

theorem compile_correct_top (env : Nat → Nat) (e : Expr) :
    run env (compile e []) [] = [Expr.eval env e] := by
  rw [compile_correct]
  rfl

theorem compile_length (e : Expr) (k : List Instr) :
    (compile e k).length = Expr.size e + k.length := by
  induction e generalizing k with
  | num n =>
    simp [compile, Expr.size]
    omega
  | var i =>
    simp [compile, Expr.size]
    omega
  | add a b iha ihb =>
    simp only [compile, Expr.size]
    rw [iha, ihb, List.length_cons]
    omega
  | mul a b iha ihb =>
    simp only [compile, Expr.size]
    rw [iha, ihb, List.length_cons]
    omega

/-! ## More practice with `calc`, `show`, `specialize`, `simp_all`, `intros`, `repeat` -/

theorem calc_norm1 (p : Point) : Point.norm1 (Point.add p p) = 2 * Point.norm1 p := by
  calc Point.norm1 (Point.add p p) = Point.norm1 p + Point.norm1 p := Point.norm1_add p p
    _ = 2 * Point.norm1 p := by omega

theorem show_tree_size (l r : Tree) (v : Nat) :
    Tree.size (Tree.node l v r) = Tree.size l + 1 + Tree.size r := by
  show Tree.size l + 1 + Tree.size r = Tree.size l + 1 + Tree.size r
  rfl

theorem specialize_eval (h : ∀ env : Nat → Nat, ∀ e, Expr.eval env (Expr.swapArgs e) = Expr.eval env e) :
    Expr.eval (fun _ => 2) (Expr.swapArgs (Expr.add (Expr.var 0) (Expr.num 1))) = 3 := by
  specialize h (fun _ => 2) (Expr.add (Expr.var 0) (Expr.num 1))
  rw [h]
  rfl

theorem simp_all_light (l : Light) (h1 : l ≠ Light.red) (h2 : l ≠ Light.yellow) :
    Light.go l = true := by
  cases l <;> simp_all [Light.go]

theorem intros_mirror_eq : ∀ t₁ t₂ : Tree, Tree.mirror t₁ = Tree.mirror t₂ → t₁ = t₂ := by
  intros t₁ t₂ h
  rw [← Tree.mirror_mirror t₁, ← Tree.mirror_mirror t₂]
  rw [h]

theorem repeat_next (l : Light) :
    Light.next (Light.next (Light.next (Light.next (Light.next (Light.next l))))) = l := by
  repeat rw [Light.next_next_next]

theorem exists_tree_size_two : ∃ t : Tree, Tree.size t = 2 ∧ Tree.sum t = 5 := by
  exists Tree.node (Tree.node Tree.leaf 2 Tree.leaf) 3 Tree.leaf

theorem compile_nonempty (e : Expr) : compile e [] ≠ [] := by
  intro h
  have hlen := compile_length e []
  rw [h] at hlen
  have hpos := Expr.size_pos e
  simp at hlen
  omega

end LeanCot.Corpus.Structures

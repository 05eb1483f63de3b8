/-
LeanCot corpus: options.
Core Lean 4 only (no Mathlib). Every proof is a tactic proof.
-/

universe u v w

namespace LeanCot.Corpus.Option

variable {α : Type u} {β : Type v} {γ : Type w}

/-! ## Easy facts about core operations -/

theorem some_ne_none' (a : Nat) : some a ≠ none := by
  simp

theorem none_ne_some' (a : Nat) : (none : Option Nat) ≠ some a := by
  intro h
  cases h

theorem some_inj' (a b : Nat) (h : some a = some b) : a = b := by
  injection h

theorem map_none' (f : Nat → Nat) : (none : Option Nat).map f = none := by
  rfl

theorem map_some' (f : Nat → Nat) (a : Nat) : (some a).map f = some (f a) := by
  rfl

theorem bind_none' (f : Nat → Option Nat) : (none : Option Nat).bind f = none := by
  rfl

theorem bind_some' (f : Nat → Option Nat) (a : Nat) : (some a).bind f = f a := by
  rfl

theorem getD_some' (a d : Nat) : (some a).getD d = a := by
  rfl

theorem getD_none' (d : Nat) : (none : Option Nat).getD d = d := by
  rfl

theorem isSome_some' (a : Nat) : (some a).isSome = true := by
  rfl

theorem isNone_none' : (none : Option Nat).isNone = true := by
  rfl

theorem option_map_id (o : Option Nat) : o.map id = o := by
  simp

theorem example_map : (some 3).map (· * 2) = some 6 := by
  decide

theorem example_getD : (none : Option Nat).getD 7 + (some 2).getD 7 = 9 := by
  decide

theorem orElse_some_example : ((some 1).orElse fun _ => some 2) = some 1 := by
  rfl

/-! ## Our own option-valued functions -/

/-- Safe predecessor. -/
def safePred : Nat → Option Nat
  | 0 => none
  | n + 1 => some n

/-- Safe division. -/
def safeDiv (a b : Nat) : Option Nat :=
  if b = 0 then none else some (a / b)

/-- Safe head of a list. -/
def safeHead : List α → Option α
  | [] => none
  | x :: _ => some x

/-- The `n`-th element of a list, if any. -/
def nth : List α → Nat → Option α
  | [], _ => none
  | x :: _, 0 => some x
  | _ :: xs, n + 1 => nth xs n

/-- Look a key up in an association list. -/
def lookup (k : Nat) : List (Nat × β) → Option β
  | [] => none
  | (k', v) :: rest => if k = k' then some v else lookup k rest

/-- Our own `Option.map`. -/
def omap (f : α → β) : Option α → Option β
  | none => none
  | some a => some (f a)

/-- Our own `Option.bind`. -/
def obind : Option α → (α → Option β) → Option β
  | none, _ => none
  | some a, f => f a

/-- Our own `getD`. -/
def withDefault (d : α) : Option α → α
  | none => d
  | some a => a

/-- Combine two options with a binary function. -/
def zipWith2 (f : α → β → γ) : Option α → Option β → Option γ
  | some a, some b => some (f a b)
  | _, _ => none

/-- First `some` of two options. -/
def first (o₁ o₂ : Option α) : Option α :=
  match o₁ with
  | some a => some a
  | none => o₂

theorem safePred_zero : safePred 0 = none := by
  rfl

theorem safePred_five : safePred 5 = some 4 := by
  rfl

theorem safeDiv_example : safeDiv 10 3 = some 3 := by
  decide

theorem safeDiv_zero (a : Nat) : safeDiv a 0 = none := by
  simp [safeDiv]

theorem safeDiv_ne_zero (a b : Nat) (h : b ≠ 0) : safeDiv a b = some (a / b) := by
  unfold safeDiv
  simp [h]

theorem safeHead_example : safeHead [4, 5] = some 4 := by
  rfl

theorem nth_example : nth [10, 20, 30] 1 = some 20 := by
  rfl

theorem nth_out_of_range_example : nth [10, 20, 30] 5 = none := by
  rfl

theorem lookup_example : lookup 2 [(1, "a"), (2, "b")] = some "b" := by
  decide

theorem safePred_succ (n : Nat) : safePred (n + 1) = some n := by
  rfl

theorem safePred_eq_none_iff (n : Nat) : safePred n = none ↔ n = 0 := by
  cases n with
  | zero =>
    simp [safePred]
  | succ n =>
    simp [safePred]

theorem safePred_some_lt (n m : Nat) (h : safePred n = some m) : m < n := by
  cases n with
  | zero =>
    simp [safePred] at h
  | succ k =>
    simp only [safePred] at h
    injection h with h'
    omega

theorem safePred_isSome_iff (n : Nat) : (safePred n).isSome = true ↔ 0 < n := by
  cases n with
  | zero => simp [safePred]
  | succ n => simp [safePred]

theorem safeDiv_isSome (a b : Nat) : (safeDiv a b).isSome = true ↔ b ≠ 0 := by
  unfold safeDiv
  by_cases hb : b = 0
  · simp [hb]
  · simp [hb]

theorem safeDiv_mul_le (a b q : Nat) (h : safeDiv a b = some q) : q * b ≤ a := by
  unfold safeDiv at h
  by_cases hb : b = 0
  · simp [hb] at h
  · simp only [hb, if_false] at h
    injection h with hq
    rw [← hq]
    exact Nat.div_mul_le_self a b

theorem safeHead_eq_none_iff (l : List α) : safeHead l = none ↔ l = [] := by
  cases l with
  | nil => simp [safeHead]
  | cons x xs => simp [safeHead]

theorem safeHead_eq_head? (l : List α) : safeHead l = l.head? := by
  cases l <;> rfl

theorem safeHead_mem (l : List α) (a : α) (h : safeHead l = some a) : a ∈ l := by
  cases l with
  | nil =>
    simp [safeHead] at h
  | cons x xs =>
    simp only [safeHead] at h
    injection h with hx
    rw [hx]
    exact List.mem_cons_self

theorem nth_zero_eq_safeHead (l : List α) : nth l 0 = safeHead l := by
  cases l with
  | nil => rfl
  | cons x xs => rfl

theorem nth_none_of_length_le (l : List α) (n : Nat) (h : l.length ≤ n) : nth l n = none := by
  induction l generalizing n with
  | nil =>
    cases n <;> rfl
  | cons x xs ih =>
    cases n with
    | zero =>
      simp at h
    | succ n =>
      simp only [nth]
      apply ih
      simp at h
      omega

theorem nth_some_of_lt (l : List α) (n : Nat) (h : n < l.length) : ∃ a, nth l n = some a := by
  induction l generalizing n with
  | nil =>
    simp at h
  | cons x xs ih =>
    cases n with
    | zero =>
      exists x
    | succ n =>
      simp only [nth]
      apply ih
      simp at h
      omega

theorem nth_mem (l : List α) (n : Nat) (a : α) (h : nth l n = some a) : a ∈ l := by
  induction l generalizing n with
  | nil =>
    simp [nth] at h
  | cons x xs ih =>
    cases n with
    | zero =>
      simp only [nth] at h
      injection h with hx
      subst hx
      exact List.mem_cons_self
    | succ n =>
      simp only [nth] at h
      have hmem := ih n h
      exact List.mem_cons_of_mem x hmem

theorem nth_append_left (l₁ l₂ : List α) (n : Nat) (h : n < l₁.length) :
    nth (l₁ ++ l₂) n = nth l₁ n := by
  induction l₁ generalizing n with
  | nil =>
    simp at h
  | cons x xs ih =>
    cases n with
    | zero => rfl
    | succ n =>
      simp only [List.cons_append, nth]
      apply ih
      simp at h
      omega

theorem lookup_cons_self (k : Nat) (v : β) (rest : List (Nat × β)) :
    lookup k ((k, v) :: rest) = some v := by
  simp [lookup]

theorem lookup_cons_ne (k k' : Nat) (v : β) (rest : List (Nat × β)) (h : k ≠ k') :
    lookup k ((k', v) :: rest) = lookup k rest := by
  simp [lookup, h]

theorem lookup_nil (k : Nat) : lookup k ([] : List (Nat × β)) = none := by
  rfl

theorem lookup_some_mem (k : Nat) (v : β) (l : List (Nat × β)) (h : lookup k l = some v) :
    (k, v) ∈ l := by
  induction l with
  | nil =>
    simp [lookup] at h
  | cons p rest ih =>
    obtain ⟨k', v'⟩ := p
    simp only [lookup] at h
    by_cases hk : k = k'
    · simp only [hk, if_true] at h
      injection h with hv
      rw [hk, hv]
      exact List.mem_cons_self
    · simp only [hk, if_false] at h
      exact List.mem_cons_of_mem _ (ih h)

theorem omap_eq_map (f : α → β) (o : Option α) : omap f o = o.map f := by
  cases o with
  | none => rfl
  | some a => rfl

theorem omap_id (o : Option α) : omap id o = o := by
  cases o <;> rfl

theorem omap_comp (f : α → β) (g : β → γ) (o : Option α) :
    omap g (omap f o) = omap (g ∘ f) o := by
  cases o with
  | none => rfl
  | some a => rfl

theorem omap_eq_none_iff (f : α → β) (o : Option α) : omap f o = none ↔ o = none := by
  cases o with
  | none => simp [omap]
  | some a => simp [omap]

theorem obind_some_right (o : Option α) : obind o some = o := by
  cases o <;> rfl

theorem obind_assoc (o : Option α) (f : α → Option β) (g : β → Option γ) :
    obind (obind o f) g = obind o (fun a => obind (f a) g) := by
  cases o with
  | none => rfl
  | some a => rfl

theorem obind_eq_some (o : Option α) (f : α → Option β) (b : β)
    (h : obind o f = some b) : ∃ a, o = some a ∧ f a = some b := by
  cases o with
  | none =>
    simp [obind] at h
  | some a =>
    refine ⟨a, rfl, ?_⟩
    exact h

theorem omap_as_obind (f : α → β) (o : Option α) : omap f o = obind o (fun a => some (f a)) := by
  cases o <;> rfl

theorem withDefault_omap (f : α → β) (d : β) (a : α) : withDefault d (omap f (some a)) = f a := by
  rfl

theorem withDefault_eq_getD (d : α) (o : Option α) : withDefault d o = o.getD d := by
  cases o <;> rfl

theorem withDefault_of_eq_some (d a : α) (o : Option α) (h : o = some a) :
    withDefault d o = a := by
  rw [h]
  rfl

theorem zipWith2_comm (f : Nat → Nat → Nat) (hf : ∀ a b, f a b = f b a) (o₁ o₂ : Option Nat) :
    zipWith2 f o₁ o₂ = zipWith2 f o₂ o₁ := by
  cases o₁ with
  | none =>
    cases o₂ <;> rfl
  | some a =>
    cases o₂ with
    | none => rfl
    | some b =>
      simp only [zipWith2]
      rw [hf]

theorem zipWith2_isSome (f : α → β → γ) (o₁ : Option α) (o₂ : Option β) :
    (zipWith2 f o₁ o₂).isSome = (o₁.isSome && o₂.isSome) := by
  cases o₁ <;> cases o₂ <;> rfl

theorem first_none_left (o : Option α) : first none o = o := by
  rfl

theorem first_none_right (o : Option α) : first o none = o := by
  cases o <;> rfl

theorem first_assoc (a b c : Option α) : first (first a b) c = first a (first b c) := by
  cases a with
  | some x => rfl
  | none => rfl

theorem first_eq_none_iff (a b : Option α) : first a b = none ↔ a = none ∧ b = none := by
  cases a with
  | some x =>
    simp [first]
  | none =>
    simp [first]

/-! ## Reasoning about core `Option` -/

theorem eq_none_or_eq_some' (o : Option Nat) : o = none ∨ ∃ a, o = some a := by
  cases o with
  | none =>
    left
    rfl
  | some a =>
    right
    exact ⟨a, rfl⟩

theorem isSome_iff_exists' (o : Option Nat) : o.isSome = true ↔ ∃ a, o = some a := by
  constructor
  · intro h
    cases o with
    | none => contradiction
    | some a => exact ⟨a, rfl⟩
  · rintro ⟨a, rfl⟩
    rfl

theorem map_eq_some_of (f : Nat → Nat) (o : Option Nat) (a : Nat) (h : o = some a) :
    o.map f = some (f a) := by
  subst h
  rfl

theorem bind_eq_none_of (f : Nat → Option Nat) (o : Option Nat) (h : o = none) :
    o.bind f = none := by
  rw [h]
  rfl

theorem getD_map (f : Nat → Nat) (o : Option Nat) (d : Nat) (h : o.isSome = true) :
    (o.map f).getD d = f (o.getD 0) := by
  cases o with
  | none => contradiction
  | some a => rfl

theorem option_map_compose (o : Option Nat) :
    (o.map (· + 1)).map (· * 2) = o.map (fun x => (x + 1) * 2) := by
  cases o <;> rfl

theorem some_getD_of_isSome (o : Option Nat) (d : Nat) (h : o.isSome = true) :
    some (o.getD d) = o := by
  cases o with
  | none =>
    simp at h
  | some a => rfl

theorem ne_none_iff_isSome' (o : Option Nat) : o ≠ none ↔ o.isSome = true := by
  cases o <;> simp

theorem option_funext : (fun o : Option Nat => o.map id) = id := by
  funext o
  cases o <;> rfl

theorem option_elim_example (o : Option Nat) (h : ∀ a, o ≠ some a) : o = none := by
  cases o with
  | none => rfl
  | some a =>
    exact absurd rfl (h a)

/-! ## More practice with `calc`, `show`, `specialize`, `simp_all`, `intros`, `repeat` -/

theorem calc_withDefault (o : Option Nat) (h : o = some 4) : withDefault 0 o + 1 = 5 := by
  calc withDefault 0 o + 1 = withDefault 0 (some 4) + 1 := by rw [h]
    _ = 5 := rfl

theorem show_safePred (n : Nat) : (safePred (n + 2)).isSome = true := by
  show (some (n + 1)).isSome = true
  rfl

theorem specialize_safeDiv (h : ∀ a b, b ≠ 0 → safeDiv a b = some (a / b)) :
    safeDiv 12 4 = some 3 := by
  specialize h 12 4 (by decide)
  rw [h]

theorem simp_all_option (o : Option Nat) (a : Nat) (h1 : o = some a) (h2 : a = 2) :
    o.getD 0 = 2 := by
  simp_all

theorem intros_some_eq : ∀ a b : Nat, a = b → some a = some b := by
  intros a b h
  rw [h]

theorem rw_rev_omap (f : Nat → Nat) (o : Option Nat) (h : o.map f = some 3) :
    omap f o = some 3 := by
  rw [omap_eq_map]
  exact h

theorem obind_safePred_twice (n : Nat) : obind (safePred (n + 2)) safePred = some n := by
  rfl

theorem exists_lookup : ∃ k, lookup k [(1, 10), (2, 20)] = some 20 := by
  exists 2

theorem safePred_omap_succ (n : Nat) (h : 0 < n) : omap (· + 1) (safePred n) = some n := by
  obtain ⟨m, rfl⟩ : ∃ m, n = m + 1 := ⟨n - 1, by omega⟩
  rfl

end LeanCot.Corpus.Option

/-
LeanCot corpus: booleans.
Core Lean 4 only (no Mathlib). Every proof is a tactic proof.
-/

namespace LeanCot.Corpus.Bool

/-! ## Easy facts about core operations -/

theorem not_not' (b : Bool) : (!!b) = b := by
  cases b <;> rfl

theorem and_true' (b : Bool) : (b && true) = b := by
  cases b <;> rfl

theorem and_false' (b : Bool) : (b && false) = false := by
  cases b <;> rfl

theorem or_true' (b : Bool) : (b || true) = true := by
  cases b <;> rfl

theorem or_false' (b : Bool) : (b || false) = b := by
  simp

theorem true_and' (b : Bool) : (true && b) = b := by
  rfl

theorem false_or' (b : Bool) : (false || b) = b := by
  rfl

theorem and_comm' (a b : Bool) : (a && b) = (b && a) := by
  decide +revert

theorem or_comm' (a b : Bool) : (a || b) = (b || a) := by
  cases a <;> cases b <;> rfl

theorem and_self' (b : Bool) : (b && b) = b := by
  simp

theorem or_self' (b : Bool) : (b || b) = b := by
  simp

theorem true_ne_false' : true ≠ false := by
  decide

theorem not_true' : (!true) = false := by
  rfl

theorem xor_self' (b : Bool) : (b ^^ b) = false := by
  simp

theorem beq_self_nat (n : Nat) : (n == n) = true := by
  simp

theorem decide_two_lt_three : decide (2 < 3) = true := by
  rfl

theorem and_assoc' (a b c : Bool) : ((a && b) && c) = (a && (b && c)) := by
  cases a <;> cases b <;> cases c <;> rfl

theorem or_assoc' (a b c : Bool) : ((a || b) || c) = (a || (b || c)) := by
  decide +revert

theorem eq_true_or_eq_false' (b : Bool) : b = true ∨ b = false := by
  cases b
  · right
    rfl
  · left
    rfl

/-! ## Laws that need a case analysis -/

theorem de_morgan_and (a b : Bool) : (!(a && b)) = (!a || !b) := by
  cases a
  · rfl
  · rfl

theorem de_morgan_or (a b : Bool) : (!(a || b)) = (!a && !b) := by
  cases a <;> cases b <;> rfl

theorem and_or_distrib (a b c : Bool) : (a && (b || c)) = ((a && b) || (a && c)) := by
  cases a <;> simp

theorem or_and_distrib (a b c : Bool) : (a || (b && c)) = ((a || b) && (a || c)) := by
  cases a <;> simp

theorem absorb_and_or (a b : Bool) : (a && (a || b)) = a := by
  cases a <;> rfl

theorem absorb_or_and (a b : Bool) : (a || (a && b)) = a := by
  cases a <;> rfl

theorem and_not_self' (b : Bool) : (b && !b) = false := by
  cases b <;> rfl

theorem or_not_self' (b : Bool) : (b || !b) = true := by
  cases b <;> rfl

theorem xor_comm' (a b : Bool) : (a ^^ b) = (b ^^ a) := by
  cases a <;> cases b <;> rfl

theorem xor_assoc' (a b c : Bool) : ((a ^^ b) ^^ c) = (a ^^ (b ^^ c)) := by
  cases a <;> cases b <;> cases c <;> rfl

theorem xor_as_and_or (a b : Bool) : (a ^^ b) = ((a || b) && !(a && b)) := by
  cases a <;> cases b <;> rfl

theorem and_eq_true_iff' (a b : Bool) : (a && b) = true ↔ a = true ∧ b = true := by
  cases a <;> cases b <;> simp

theorem or_eq_true_iff' (a b : Bool) : (a || b) = true ↔ a = true ∨ b = true := by
  simp

theorem not_eq_true_iff' (b : Bool) : (!b) = true ↔ b = false := by
  cases b <;> simp

theorem eq_false_of_ne_true' (b : Bool) (h : b ≠ true) : b = false := by
  cases b with
  | false => rfl
  | true => contradiction

theorem bool_eq_of_not_eq (a b : Bool) (h : (!a) = (!b)) : a = b := by
  cases a <;> cases b
  · rfl
  · contradiction
  · contradiction
  · rfl

theorem three_bools_two_equal (a b c : Bool) : a = b ∨ b = c ∨ a = c := by
  cases a <;> cases b <;> cases c <;> simp

theorem bool_function_fixed (f : Bool → Bool) (h : f true = true) (h' : f false = false) :
    ∀ b, f b = b := by
  intro b
  cases b with
  | false => exact h'
  | true => exact h

theorem bool_function_thrice (f : Bool → Bool) (b : Bool) : f (f (f b)) = f b := by
  cases b <;> cases h1 : f true <;> cases h2 : f false <;> simp only [h1, h2]

theorem funext_and_true : (fun b : Bool => b && true) = id := by
  funext b
  cases b <;> rfl

theorem funext_not_not : (fun b : Bool => !!b) = (fun b => b) := by
  funext b
  simp

/-! ## Our own boolean functions -/

/-- Implication on booleans. -/
def implies : Bool → Bool → Bool
  | true, b => b
  | false, _ => true

/-- Majority of three. -/
def majority (a b c : Bool) : Bool :=
  (a && b) || (b && c) || (a && c)

/-- Boolean "all" over a list. -/
def allTrue : List Bool → Bool
  | [] => true
  | b :: bs => b && allTrue bs

/-- Boolean "any" over a list. -/
def anyTrue : List Bool → Bool
  | [] => false
  | b :: bs => b || anyTrue bs

/-- Count the `true` values in a list. -/
def countTrue : List Bool → Nat
  | [] => 0
  | b :: bs => (if b then 1 else 0) + countTrue bs

/-- Parity of the number of `true` values. -/
def parity : List Bool → Bool
  | [] => false
  | b :: bs => b ^^ parity bs

/-- Negate every element. -/
def negAll : List Bool → List Bool
  | [] => []
  | b :: bs => (!b) :: negAll bs

theorem implies_true_left (b : Bool) : implies true b = b := by
  rfl

theorem implies_self (b : Bool) : implies b b = true := by
  cases b <;> rfl

theorem implies_eq_not_or (a b : Bool) : implies a b = (!a || b) := by
  cases a <;> rfl

theorem implies_trans (a b c : Bool) (h1 : implies a b = true) (h2 : implies b c = true) :
    implies a c = true := by
  cases a with
  | false => rfl
  | true =>
    simp only [implies] at h1
    subst h1
    exact h2

theorem implies_true_iff (a b : Bool) : implies a b = true ↔ (a = true → b = true) := by
  cases a <;> cases b <;> simp [implies]

theorem majority_example : majority true false true = true := by
  rfl

theorem majority_comm12 (a b c : Bool) : majority a b c = majority b a c := by
  cases a <;> cases b <;> cases c <;> rfl

theorem majority_same (a b : Bool) : majority a a b = a := by
  cases a <;> cases b <;> decide

theorem majority_not (a b c : Bool) : majority (!a) (!b) (!c) = !(majority a b c) := by
  unfold majority
  cases a <;> cases b <;> cases c <;> rfl

theorem allTrue_example : allTrue [true, true, false] = false := by
  rfl

theorem anyTrue_example : anyTrue [false, true] = true := by
  rfl

theorem countTrue_example : countTrue [true, false, true, true] = 3 := by
  decide

theorem allTrue_append (l₁ l₂ : List Bool) :
    allTrue (l₁ ++ l₂) = (allTrue l₁ && allTrue l₂) := by
  induction l₁ with
  | nil => rfl
  | cons b bs ih =>
    simp only [List.cons_append, allTrue]
    rw [ih]
    cases b <;> rfl

theorem anyTrue_append (l₁ l₂ : List Bool) :
    anyTrue (l₁ ++ l₂) = (anyTrue l₁ || anyTrue l₂) := by
  induction l₁ with
  | nil => rfl
  | cons b bs ih =>
    simp only [List.cons_append, anyTrue]
    rw [ih]
    simp [Bool.or_assoc]

theorem allTrue_iff (l : List Bool) : allTrue l = true ↔ ∀ b ∈ l, b = true := by
  induction l with
  | nil => simp [allTrue]
  | cons b bs ih =>
    simp [allTrue, ih]

theorem anyTrue_iff (l : List Bool) : anyTrue l = true ↔ true ∈ l := by
  induction l with
  | nil => simp [anyTrue]
  | cons b bs ih =>
    cases b with
    | true => simp [anyTrue]
    | false => simp [anyTrue, ih]

theorem anyTrue_negAll (l : List Bool) : anyTrue (negAll l) = !(allTrue l) := by
  induction l with
  | nil => rfl
  | cons b bs ih =>
    simp only [negAll, anyTrue, allTrue]
    rw [ih]
    cases b <;> rfl

theorem allTrue_negAll (l : List Bool) : allTrue (negAll l) = !(anyTrue l) := by
  induction l with
  | nil => rfl
  | cons b bs ih =>
    simp only [negAll, anyTrue, allTrue]
    rw [ih]
    cases b <;> rfl

theorem negAll_negAll (l : List Bool) : negAll (negAll l) = l := by
  induction l with
  | nil => rfl
  | cons b bs ih =>
    simp only [negAll]
    rw [ih, Bool.not_not]

theorem negAll_length (l : List Bool) : (negAll l).length = l.length := by
  induction l with
  | nil => rfl
  | cons b bs ih =>
    simp [negAll, ih]

theorem countTrue_le_length (l : List Bool) : countTrue l ≤ l.length := by
  induction l with
  | nil => exact Nat.le_refl 0
  | cons b bs ih =>
    simp only [countTrue, List.length_cons]
    cases b
    · simp only [Bool.false_eq_true, if_false]
      omega
    · simp only [if_true]
      omega

theorem countTrue_negAll (l : List Bool) : countTrue (negAll l) + countTrue l = l.length := by
  induction l with
  | nil => rfl
  | cons b bs ih =>
    simp only [negAll, countTrue, List.length_cons]
    cases b with
    | true =>
      simp only [Bool.not_true, Bool.false_eq_true, if_false, if_true]
      omega
    | false =>
      simp only [Bool.not_false, Bool.false_eq_true, if_false, if_true]
      omega

theorem allTrue_countTrue (l : List Bool) (h : allTrue l = true) : countTrue l = l.length := by
  induction l with
  | nil => rfl
  | cons b bs ih =>
    simp only [allTrue, Bool.and_eq_true] at h
    obtain ⟨hb, hbs⟩ := h
    subst hb
    simp only [countTrue, List.length_cons, if_true]
    rw [ih hbs]
    omega

theorem parity_append (l₁ l₂ : List Bool) :
    parity (l₁ ++ l₂) = (parity l₁ ^^ parity l₂) := by
  induction l₁ with
  | nil =>
    simp [parity]
  | cons b bs ih =>
    simp only [List.cons_append, parity]
    rw [ih]
    cases b <;> cases parity bs <;> cases parity l₂ <;> rfl

theorem parity_eq_countTrue_mod (l : List Bool) :
    parity l = decide (countTrue l % 2 = 1) := by
  induction l with
  | nil => rfl
  | cons b bs ih =>
    simp only [parity, countTrue]
    rw [ih]
    cases b with
    | false =>
      simp
    | true =>
      simp only [if_true, Bool.true_xor]
      by_cases h : countTrue bs % 2 = 1
      · have h' : ¬ ((1 + countTrue bs) % 2 = 1) := by omega
        simp [h, h']
      · have h' : (1 + countTrue bs) % 2 = 1 := by omega
        simp [h, h']

theorem exists_bool_ne (b : Bool) : ∃ c : Bool, c ≠ b := by
  exists !b
  cases b <;> decide

theorem decide_and_iff (p q : Prop) [Decidable p] [Decidable q] :
    decide (p ∧ q) = (decide p && decide q) := by
  by_cases hp : p
  · by_cases hq : q
    · simp [hp, hq]
    · simp [hp, hq]
  · simp [hp]

theorem if_bool_eq (b : Bool) (x y : Nat) (h : b = true) : (if b then x else y) = x := by
  rw [h]
  rfl

theorem cond_not (b : Bool) (x y : Nat) : (bif !b then x else y) = (bif b then y else x) := by
  cases b <;> rfl

/-! ## More practice with `calc`, `show`, `specialize`, `simp_all`, `intros`, `repeat` -/

theorem calc_bool (a b : Bool) (h : a = true) : (a && b) = b := by
  calc (a && b) = (true && b) := by rw [h]
    _ = b := rfl

theorem show_implies (b : Bool) : implies false b = true := by
  show true = true
  rfl

theorem specialize_bool (f : Bool → Bool) (h : ∀ b, f b = !b) : f (f true) = true := by
  have h1 := h true
  specialize h (f true)
  rw [h, h1]
  rfl

theorem simp_all_bool (a b : Bool) (h1 : a = true) (h2 : (a && b) = false) : b = false := by
  simp_all

theorem intros_bool_or : ∀ a b : Bool, a = true → (a || b) = true := by
  intros a b h
  rw [h]
  rfl

theorem repeat_cases_majority (a b c : Bool) (h : a = b) : majority a b c = a := by
  subst h
  repeat (first | cases a | cases c)
  all_goals rfl

theorem rw_rev_negAll (l : List Bool) (h : allTrue l = true) : anyTrue (negAll l) = false := by
  rw [anyTrue_negAll, h]
  rfl

theorem exists_three_bools : ∃ a b c : Bool, majority a b c = true ∧ a = false := by
  exists false, true, true

end LeanCot.Corpus.Bool

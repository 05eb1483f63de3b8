/-
LeanCot corpus: natural number arithmetic and order.
Core Lean 4 only (no Mathlib). Every proof is a tactic proof.
-/

namespace LeanCot.Corpus.Nat

/-! ## Easy facts -/

theorem add_zero_right (n : Nat) : n + 0 = n := by
  rfl

theorem zero_add_left (n : Nat) : 0 + n = n := by
  simp

theorem two_plus_two : 2 + 2 = 4 := by
  decide

theorem seven_mul_six : 7 * 6 = 42 := by
  decide

theorem succ_ne_zero' (n : Nat) : n + 1 ≠ 0 := by
  omega

theorem lt_succ_self' (n : Nat) : n < n + 1 := by
  omega

theorem le_add_right' (a b : Nat) : a ≤ a + b := by
  omega

theorem mul_one_right (n : Nat) : n * 1 = n := by
  simp

theorem one_mul_left (n : Nat) : 1 * n = n := by
  simp

theorem mul_zero_right (n : Nat) : n * 0 = 0 := by
  rfl

theorem sub_self' (n : Nat) : n - n = 0 := by
  simp

theorem add_comm' (a b : Nat) : a + b = b + a := by
  omega

theorem add_assoc' (a b c : Nat) : a + b + c = a + (b + c) := by
  omega

theorem double_eq_add (n : Nat) : 2 * n = n + n := by
  omega

theorem ten_lt_hundred : 10 < 100 := by
  decide

theorem pred_succ' (n : Nat) : (n + 1) - 1 = n := by
  simp

theorem min_self' (n : Nat) : min n n = n := by
  simp

theorem max_self' (n : Nat) : max n n = n := by
  simp

theorem le_refl' (n : Nat) : n ≤ n := by
  exact Nat.le_refl n

theorem succ_le_succ_of_le (a b : Nat) (h : a ≤ b) : a + 1 ≤ b + 1 := by
  exact Nat.succ_le_succ h

/-! ## Recursive definitions of our own -/

/-- Sum of the first `n` natural numbers: `0 + 1 + ... + (n - 1)`. -/
def sumTo : Nat → Nat
  | 0 => 0
  | n + 1 => sumTo n + n

/-- Doubling by recursion. -/
def double : Nat → Nat
  | 0 => 0
  | n + 1 => double n + 2

/-- Sum of the first `n` odd numbers. -/
def sumOdds : Nat → Nat
  | 0 => 0
  | n + 1 => sumOdds n + (2 * n + 1)

/-- Exponentiation by 2, written recursively. -/
def pow2 : Nat → Nat
  | 0 => 1
  | n + 1 => 2 * pow2 n

/-- Evenness as a boolean function. -/
def isEven : Nat → Bool
  | 0 => true
  | n + 1 => !isEven n

/-- Addition by recursion on the second argument. -/
def myAdd : Nat → Nat → Nat
  | m, 0 => m
  | m, n + 1 => myAdd m n + 1

/-- Factorial. -/
def fact : Nat → Nat
  | 0 => 1
  | n + 1 => (n + 1) * fact n

theorem sumTo_zero : sumTo 0 = 0 := by
  rfl

theorem sumTo_five : sumTo 5 = 10 := by
  decide

theorem double_three : double 3 = 6 := by
  rfl

theorem pow2_four : pow2 4 = 16 := by
  decide

theorem fact_four : fact 4 = 24 := by
  decide

theorem isEven_ten : isEven 10 = true := by
  decide

theorem double_eq_two_mul (n : Nat) : double n = 2 * n := by
  induction n with
  | zero => rfl
  | succ n ih =>
    simp only [double]
    omega

theorem sumTo_twice (n : Nat) : 2 * sumTo n + n = n * n := by
  induction n with
  | zero => rfl
  | succ n ih =>
    simp only [sumTo]
    rw [Nat.mul_add, Nat.add_mul, Nat.mul_add, Nat.mul_one, Nat.one_mul]
    omega

theorem sumOdds_eq_sq (n : Nat) : sumOdds n = n * n := by
  induction n with
  | zero => rfl
  | succ n ih =>
    unfold sumOdds
    rw [ih]
    rw [Nat.add_mul, Nat.mul_add, Nat.mul_one, Nat.one_mul]
    omega

theorem pow2_pos (n : Nat) : 0 < pow2 n := by
  induction n with
  | zero => decide
  | succ n ih =>
    simp only [pow2]
    omega

theorem pow2_ge_succ (n : Nat) : n + 1 ≤ pow2 n := by
  induction n with
  | zero => decide
  | succ n ih =>
    simp only [pow2]
    have hpos : 0 < pow2 n := pow2_pos n
    omega

theorem pow2_add (m n : Nat) : pow2 (m + n) = pow2 m * pow2 n := by
  induction n with
  | zero =>
    simp [pow2]
  | succ n ih =>
    rw [← Nat.add_assoc]
    simp only [pow2]
    rw [ih]
    rw [Nat.mul_left_comm]

theorem myAdd_eq_add (m n : Nat) : myAdd m n = m + n := by
  induction n with
  | zero => rfl
  | succ n ih =>
    simp only [myAdd]
    rw [ih]
    rfl

theorem myAdd_zero_left (n : Nat) : myAdd 0 n = n := by
  induction n with
  | zero => rfl
  | succ n ih =>
    simp [myAdd, ih]

theorem myAdd_comm (m n : Nat) : myAdd m n = myAdd n m := by
  rw [myAdd_eq_add, myAdd_eq_add]
  exact Nat.add_comm m n

theorem isEven_double (n : Nat) : isEven (2 * n) = true := by
  induction n with
  | zero => rfl
  | succ n ih =>
    have h : 2 * (n + 1) = 2 * n + 1 + 1 := by omega
    rw [h]
    simp only [isEven]
    simp [ih]

theorem isEven_succ_double (n : Nat) : isEven (2 * n + 1) = false := by
  simp only [isEven]
  rw [isEven_double n]
  rfl

theorem fact_pos (n : Nat) : 0 < fact n := by
  induction n with
  | zero => decide
  | succ n ih =>
    simp only [fact]
    exact Nat.mul_pos (Nat.succ_pos n) ih

theorem fact_ge_one (n : Nat) : 1 ≤ fact n := by
  have h := fact_pos n
  omega

theorem le_fact (n : Nat) : n ≤ fact n := by
  cases n with
  | zero => decide
  | succ n =>
    simp only [fact]
    have h : 1 ≤ fact n := fact_ge_one n
    calc n + 1 = (n + 1) * 1 := by rw [Nat.mul_one]
      _ ≤ (n + 1) * fact n := Nat.mul_le_mul_left (n + 1) h

/-! ## Order and arithmetic reasoning -/

theorem le_of_lt_succ' (a b : Nat) (h : a < b + 1) : a ≤ b := by
  omega

theorem lt_trans' (a b c : Nat) (h1 : a < b) (h2 : b < c) : a < c := by
  exact Nat.lt_trans h1 h2

theorem le_antisymm' (a b : Nat) (h1 : a ≤ b) (h2 : b ≤ a) : a = b := by
  apply Nat.le_antisymm
  · exact h1
  · exact h2

theorem add_le_add' (a b c d : Nat) (h1 : a ≤ b) (h2 : c ≤ d) : a + c ≤ b + d := by
  omega

theorem mul_le_mul_right' (a b k : Nat) (h : a ≤ b) : a * k ≤ b * k := by
  exact Nat.mul_le_mul_right k h

theorem sub_add_cancel' (a b : Nat) (h : b ≤ a) : a - b + b = a := by
  omega

theorem lt_or_ge' (a b : Nat) : a < b ∨ b ≤ a := by
  by_cases h : a < b
  · left
    exact h
  · right
    omega

theorem max_comm' (a b : Nat) : max a b = max b a := by
  exact Nat.max_comm a b

theorem min_le_left' (a b : Nat) : min a b ≤ a := by
  exact Nat.min_le_left a b

theorem max_ge_both (a b : Nat) : a ≤ max a b ∧ b ≤ max a b := by
  constructor
  · exact Nat.le_max_left a b
  · exact Nat.le_max_right a b

theorem min_add_max (a b : Nat) : min a b + max a b = a + b := by
  by_cases h : a ≤ b
  · rw [Nat.min_eq_left h, Nat.max_eq_right h]
  · have h' : b ≤ a := by omega
    rw [Nat.min_eq_right h', Nat.max_eq_left h']
    omega

theorem zero_lt_of_ne_zero' (n : Nat) (h : n ≠ 0) : 0 < n := by
  cases n with
  | zero => contradiction
  | succ m => exact Nat.succ_pos m

theorem eq_zero_of_le_zero' (n : Nat) (h : n ≤ 0) : n = 0 := by
  omega

theorem exists_gt (n : Nat) : ∃ m, n < m := by
  exists n + 1
  omega

theorem exists_double (n : Nat) : ∃ m, m = 2 * n := by
  refine ⟨2 * n, ?_⟩
  rfl

theorem exists_sum_eq_ten : ∃ a b : Nat, a + b = 10 ∧ a = 3 := by
  exists 3, 7

theorem even_or_odd (n : Nat) : ∃ k, n = 2 * k ∨ n = 2 * k + 1 := by
  induction n with
  | zero =>
    refine ⟨0, ?_⟩
    left
    rfl
  | succ n ih =>
    obtain ⟨k, hk | hk⟩ := ih
    · exists k
      right
      omega
    · exists k + 1
      left
      omega

theorem not_succ_le_self' (n : Nat) : ¬ (n + 1 ≤ n) := by
  intro h
  omega

theorem lt_irrefl' (n : Nat) : ¬ n < n := by
  intro h
  exact absurd h (Nat.lt_irrefl n)

theorem ne_of_lt' (a b : Nat) (h : a < b) : a ≠ b := by
  intro heq
  rw [heq] at h
  exact Nat.lt_irrefl b h

theorem succ_inj' (a b : Nat) (h : a + 1 = b + 1) : a = b := by
  injection h

theorem mul_self_le_mul_self' (a b : Nat) (h : a ≤ b) : a * a ≤ b * b := by
  have h1 : a * a ≤ a * b := Nat.mul_le_mul_left a h
  have h2 : a * b ≤ b * b := Nat.mul_le_mul_right b h
  exact Nat.le_trans h1 h2

theorem sq_add (a b : Nat) : (a + b) * (a + b) = a * a + 2 * (a * b) + b * b := by
  rw [Nat.add_mul, Nat.mul_add, Nat.mul_add]
  rw [Nat.mul_comm b a]
  omega

theorem dvd_refl' (n : Nat) : n ∣ n := by
  exists 1
  simp

theorem dvd_mul_right' (a b : Nat) : a ∣ a * b := by
  exact ⟨b, rfl⟩

theorem dvd_trans' (a b c : Nat) (h1 : a ∣ b) (h2 : b ∣ c) : a ∣ c := by
  obtain ⟨k, hk⟩ := h1
  obtain ⟨m, hm⟩ := h2
  refine ⟨k * m, ?_⟩
  rw [hm, hk]
  rw [Nat.mul_assoc]

theorem dvd_add' (a b c : Nat) (h1 : a ∣ b) (h2 : a ∣ c) : a ∣ b + c := by
  rcases h1 with ⟨k, rfl⟩
  rcases h2 with ⟨m, rfl⟩
  exists k + m
  rw [Nat.mul_add]

theorem two_dvd_sq_of_two_dvd (n : Nat) (h : 2 ∣ n) : 2 ∣ n * n := by
  obtain ⟨k, hk⟩ := h
  subst hk
  exists k * (2 * k)
  rw [Nat.mul_assoc]

theorem mod_two_cases (n : Nat) : n % 2 = 0 ∨ n % 2 = 1 := by
  omega

theorem div_two_mul_two_le (n : Nat) : n / 2 * 2 ≤ n := by
  omega

theorem succ_sub_one' (n : Nat) : n + 1 - 1 = n := by
  omega

theorem three_mul_eq (n : Nat) : 3 * n = n + n + n := by
  omega

theorem lt_of_lt_of_le' (a b c : Nat) (h1 : a < b) (h2 : b ≤ c) : a < c := by
  calc a < b := h1
    _ ≤ c := h2

theorem le_chain (a b c d : Nat) (h1 : a ≤ b) (h2 : b ≤ c) (h3 : c ≤ d) : a ≤ d := by
  calc a ≤ b := h1
    _ ≤ c := h2
    _ ≤ d := h3

theorem add_sub_cancel_right' (a b : Nat) : a + b - b = a := by
  omega

theorem specialize_example (f : Nat → Nat) (h : ∀ n, f n = n + 1) : f 3 = 4 := by
  specialize h 3
  rw [h]

theorem funext_example : (fun n : Nat => n + 0) = (fun n : Nat => n) := by
  funext n
  rfl

theorem function_eq_comm : (fun n : Nat => n * 2) = (fun n : Nat => 2 * n) := by
  funext n
  exact Nat.mul_comm n 2

theorem small_cases (n : Nat) (h : n < 3) : n = 0 ∨ n = 1 ∨ n = 2 := by
  rcases n with _ | _ | _ | n
  · left
    rfl
  · right
    left
    rfl
  · right
    right
    rfl
  · omega

theorem all_below_four_sq_lt_ten : ∀ n, n < 4 → n * n < 10 := by
  intro n hn
  rcases n with _ | _ | _ | _ | n
  all_goals first
    | decide
    | omega

theorem iterate_cases (n : Nat) (h : n ≤ 2) : n * n ≤ 4 := by
  have : n = 0 ∨ n = 1 ∨ n = 2 := by omega
  rcases this with rfl | rfl | rfl <;> decide

theorem decide_bounded : ∀ n : Fin 5, n.val * n.val < 17 := by
  decide

theorem exists_max_le (a b : Nat) : ∃ c, a ≤ c ∧ b ≤ c := by
  refine ⟨a + b, ?_, ?_⟩
  · omega
  · omega

theorem strict_mono_double (a b : Nat) (h : a < b) : double a < double b := by
  rw [double_eq_two_mul, double_eq_two_mul]
  omega

theorem sumTo_mono (m n : Nat) (h : m ≤ n) : sumTo m ≤ sumTo n := by
  induction n with
  | zero =>
    have hm : m = 0 := by omega
    rw [hm]
    exact Nat.le_refl _
  | succ n ih =>
    by_cases hmn : m = n + 1
    · rw [hmn]
      exact Nat.le_refl _
    · have hle : m ≤ n := by omega
      specialize ih hle
      simp only [sumTo]
      omega

theorem fact_mono_succ (n : Nat) : fact n ≤ fact (n + 1) := by
  show fact n ≤ (n + 1) * fact n
  calc fact n = 1 * fact n := by rw [Nat.one_mul]
    _ ≤ (n + 1) * fact n := Nat.mul_le_mul_right (fact n) (by omega)

theorem absurd_example (n : Nat) (h1 : n < 2) (h2 : 5 < n) : n = 100 := by
  have h3 : ¬ (5 < n) := by omega
  exact absurd h2 h3

theorem repeat_constructor_example : 1 < 2 ∧ 2 < 3 ∧ 3 < 4 := by
  repeat constructor

theorem intros_example : ∀ a b : Nat, a = b → b = a := by
  intros a b h
  exact h.symm

/-! ## More practice with `calc`, `show`, `specialize`, `simp_all`, `intros`, `repeat` -/

theorem calc_add_mul (a b : Nat) : (a + b) * 2 = 2 * a + 2 * b := by
  calc (a + b) * 2 = 2 * (a + b) := by rw [Nat.mul_comm]
    _ = 2 * a + 2 * b := by rw [Nat.mul_add]

theorem calc_lt_chain (a b c : Nat) (h1 : a < b) (h2 : b < c) : a + 1 < c := by
  calc a + 1 ≤ b := h1
    _ < c := h2

theorem calc_double_le (a b : Nat) (h : a ≤ b) : double a ≤ double b := by
  calc double a = 2 * a := double_eq_two_mul a
    _ ≤ 2 * b := by omega
    _ = double b := (double_eq_two_mul b).symm

theorem show_succ_pos (n : Nat) : 0 < n.succ := by
  show 0 < n + 1
  omega

theorem show_sumTo_succ (n : Nat) : sumTo (n + 1) = sumTo n + n := by
  show sumTo n + n = sumTo n + n
  rfl

theorem specialize_twice (f : Nat → Nat) (h : ∀ a b, f (a + b) = f a + f b) :
    f 0 = 0 := by
  specialize h 0 0
  simp at h
  omega

theorem specialize_mono (f : Nat → Nat) (hmono : ∀ a b, a ≤ b → f a ≤ f b) (n : Nat) :
    f n ≤ f (n + 3) := by
  specialize hmono n (n + 3)
  apply hmono
  omega

theorem simp_all_arith (a b : Nat) (h1 : a = 3) (h2 : b = a + 1) : b = 4 := by
  simp_all

theorem simp_all_chain (a b c : Nat) (h1 : a = b) (h2 : b = c) (h3 : c = 5) : a + 1 = 6 := by
  simp_all

theorem intros_le_trans : ∀ a b c : Nat, a ≤ b → b ≤ c → a ≤ c := by
  intros a b c hab hbc
  exact Nat.le_trans hab hbc

theorem intros_add_pos : ∀ a b : Nat, 0 < a → 0 < a + b := by
  intros a b ha
  omega

theorem repeat_rw_zero (a : Nat) : a + 0 + 0 + 0 = a := by
  repeat rw [Nat.add_zero]

theorem rw_rev_double (n : Nat) (h : double n = 10) : 2 * n = 10 := by
  rw [← double_eq_two_mul]
  exact h

theorem rw_rev_mul_comm (a b : Nat) (h : b * a = 12) : a * b = 12 := by
  rw [← h]
  exact Nat.mul_comm a b

theorem fact_five_div : fact 5 / fact 4 = 5 := by
  decide

theorem pow2_mono (m n : Nat) (h : m ≤ n) : pow2 m ≤ pow2 n := by
  obtain ⟨k, rfl⟩ : ∃ k, n = m + k := ⟨n - m, by omega⟩
  rw [pow2_add]
  have hk : 1 ≤ pow2 k := pow2_pos k
  calc pow2 m = pow2 m * 1 := by rw [Nat.mul_one]
    _ ≤ pow2 m * pow2 k := Nat.mul_le_mul_left (pow2 m) hk

end LeanCot.Corpus.Nat

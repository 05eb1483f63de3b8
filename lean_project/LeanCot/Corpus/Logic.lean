/-
LeanCot corpus: propositional and first-order logic.
Core Lean 4 only (no Mathlib). Every proof is a tactic proof.
-/

universe u v w

namespace LeanCot.Corpus.Logic

variable {α : Type u} {β : Type v} {γ : Type w}

/-! ## Propositional logic -/

theorem imp_self' (p : Prop) : p → p := by
  intro hp
  exact hp

theorem true_intro' : True := by
  trivial

theorem and_intro' (p q : Prop) (hp : p) (hq : q) : p ∧ q := by
  constructor
  · exact hp
  · exact hq

theorem and_left' (p q : Prop) (h : p ∧ q) : p := by
  exact h.1

theorem and_right' (p q : Prop) (h : p ∧ q) : q := by
  obtain ⟨_, hq⟩ := h
  exact hq

theorem and_swap (p q : Prop) : p ∧ q → q ∧ p := by
  intro ⟨hp, hq⟩
  exact ⟨hq, hp⟩

theorem or_swap (p q : Prop) : p ∨ q → q ∨ p := by
  intro h
  cases h with
  | inl hp =>
    right
    exact hp
  | inr hq =>
    left
    exact hq

theorem or_inl' (p q : Prop) (hp : p) : p ∨ q := by
  left
  exact hp

theorem imp_trans' (p q r : Prop) (hpq : p → q) (hqr : q → r) : p → r := by
  intro hp
  apply hqr
  apply hpq
  exact hp

theorem modus_ponens' (p q : Prop) (hp : p) (hpq : p → q) : q := by
  exact hpq hp

theorem modus_tollens (p q : Prop) (hpq : p → q) (hnq : ¬ q) : ¬ p := by
  intro hp
  exact hnq (hpq hp)

theorem false_elim' (p : Prop) (h : False) : p := by
  contradiction

theorem not_not_intro' (p : Prop) (hp : p) : ¬¬p := by
  intro hnp
  exact hnp hp

theorem absurd' (p q : Prop) (hp : p) (hnp : ¬ p) : q := by
  exact absurd hp hnp

theorem and_comm_iff (p q : Prop) : p ∧ q ↔ q ∧ p := by
  constructor
  · rintro ⟨hp, hq⟩
    exact ⟨hq, hp⟩
  · rintro ⟨hq, hp⟩
    exact ⟨hp, hq⟩

theorem or_comm_iff (p q : Prop) : p ∨ q ↔ q ∨ p := by
  constructor
  · rintro (hp | hq)
    · exact Or.inr hp
    · exact Or.inl hq
  · rintro (hq | hp)
    · exact Or.inr hq
    · exact Or.inl hp

theorem and_assoc_iff (p q r : Prop) : (p ∧ q) ∧ r ↔ p ∧ (q ∧ r) := by
  constructor
  · rintro ⟨⟨hp, hq⟩, hr⟩
    exact ⟨hp, hq, hr⟩
  · rintro ⟨hp, hq, hr⟩
    exact ⟨⟨hp, hq⟩, hr⟩

theorem or_assoc_iff (p q r : Prop) : (p ∨ q) ∨ r ↔ p ∨ (q ∨ r) := by
  constructor
  · rintro ((hp | hq) | hr)
    · exact Or.inl hp
    · exact Or.inr (Or.inl hq)
    · exact Or.inr (Or.inr hr)
  · rintro (hp | hq | hr)
    · exact Or.inl (Or.inl hp)
    · exact Or.inl (Or.inr hq)
    · exact Or.inr hr

theorem and_or_distrib_left (p q r : Prop) : p ∧ (q ∨ r) ↔ (p ∧ q) ∨ (p ∧ r) := by
  constructor
  · rintro ⟨hp, hq | hr⟩
    · left
      exact ⟨hp, hq⟩
    · right
      exact ⟨hp, hr⟩
  · rintro (⟨hp, hq⟩ | ⟨hp, hr⟩)
    · exact ⟨hp, Or.inl hq⟩
    · exact ⟨hp, Or.inr hr⟩

theorem or_and_distrib_left (p q r : Prop) : p ∨ (q ∧ r) ↔ (p ∨ q) ∧ (p ∨ r) := by
  constructor
  · rintro (hp | ⟨hq, hr⟩)
    · exact ⟨Or.inl hp, Or.inl hp⟩
    · exact ⟨Or.inr hq, Or.inr hr⟩
  · rintro ⟨hp | hq, hpr⟩
    · exact Or.inl hp
    · cases hpr with
      | inl hp => exact Or.inl hp
      | inr hr => exact Or.inr ⟨hq, hr⟩

theorem curry' (p q r : Prop) : (p ∧ q → r) ↔ (p → q → r) := by
  constructor
  · intro h hp hq
    exact h ⟨hp, hq⟩
  · intro h ⟨hp, hq⟩
    exact h hp hq

theorem not_or_iff (p q : Prop) : ¬ (p ∨ q) ↔ ¬ p ∧ ¬ q := by
  constructor
  · intro h
    constructor
    · intro hp
      exact h (Or.inl hp)
    · intro hq
      exact h (Or.inr hq)
  · rintro ⟨hnp, hnq⟩ (hp | hq)
    · exact hnp hp
    · exact hnq hq

theorem not_and_of_not_or_not (p q : Prop) (h : ¬ p ∨ ¬ q) : ¬ (p ∧ q) := by
  rintro ⟨hp, hq⟩
  cases h with
  | inl hnp => exact hnp hp
  | inr hnq => exact hnq hq

theorem not_and_iff_classical (p q : Prop) : ¬ (p ∧ q) ↔ ¬ p ∨ ¬ q := by
  constructor
  · intro h
    by_cases hp : p
    · right
      intro hq
      exact h ⟨hp, hq⟩
    · left
      exact hp
  · exact not_and_of_not_or_not p q

theorem not_not_elim (p : Prop) (h : ¬¬p) : p := by
  by_cases hp : p
  · exact hp
  · exact absurd hp h

theorem em' (p : Prop) : p ∨ ¬ p := by
  by_cases hp : p
  · exact Or.inl hp
  · exact Or.inr hp

theorem contrapositive_iff (p q : Prop) : (p → q) ↔ (¬ q → ¬ p) := by
  constructor
  · intro h hnq hp
    exact hnq (h hp)
  · intro h hp
    by_cases hq : q
    · exact hq
    · exact absurd hp (h hq)

theorem peirce (p q : Prop) : ((p → q) → p) → p := by
  intro h
  by_cases hp : p
  · exact hp
  · apply h
    intro hp'
    exact absurd hp' hp

theorem imp_iff_not_or' (p q : Prop) : (p → q) ↔ ¬ p ∨ q := by
  constructor
  · intro h
    by_cases hp : p
    · exact Or.inr (h hp)
    · exact Or.inl hp
  · rintro (hnp | hq) hp
    · exact absurd hp hnp
    · exact hq

theorem iff_trans' (p q r : Prop) (h1 : p ↔ q) (h2 : q ↔ r) : p ↔ r := by
  rw [h1]
  exact h2

theorem iff_symm' (p q : Prop) (h : p ↔ q) : q ↔ p := by
  rw [h]

theorem and_self_iff' (p : Prop) : p ∧ p ↔ p := by
  simp

theorem or_false_iff' (p : Prop) : p ∨ False ↔ p := by
  simp

theorem and_true_iff' (p : Prop) : p ∧ True ↔ p := by
  simp

theorem not_true_iff' : ¬ True ↔ False := by
  simp

theorem imp_and_iff (p q r : Prop) : (p → q ∧ r) ↔ (p → q) ∧ (p → r) := by
  constructor
  · intro h
    exact ⟨fun hp => (h hp).1, fun hp => (h hp).2⟩
  · rintro ⟨hq, hr⟩ hp
    exact ⟨hq hp, hr hp⟩

theorem or_imp_iff (p q r : Prop) : (p ∨ q → r) ↔ (p → r) ∧ (q → r) := by
  constructor
  · intro h
    refine ⟨?_, ?_⟩
    · intro hp
      exact h (Or.inl hp)
    · intro hq
      exact h (Or.inr hq)
  · rintro ⟨hpr, hqr⟩ (hp | hq)
    · exact hpr hp
    · exact hqr hq

theorem not_iff_self' (p : Prop) : ¬ (p ↔ ¬ p) := by
  intro h
  have hnp : ¬ p := by
    intro hp
    exact (h.mp hp) hp
  exact hnp (h.mpr hnp)

theorem three_way_cases (p q : Prop) (hpq : p ∨ q) (hp : p → False) : q := by
  rcases hpq with hp' | hq
  · exact absurd hp' hp
  · exact hq

theorem decide_prop_example : (2 < 3 ∧ 5 ≠ 6) ∨ False := by
  decide

/-! ## First-order logic -/

theorem forall_and_iff (P Q : α → Prop) : (∀ x, P x ∧ Q x) ↔ (∀ x, P x) ∧ (∀ x, Q x) := by
  constructor
  · intro h
    exact ⟨fun x => (h x).1, fun x => (h x).2⟩
  · rintro ⟨hP, hQ⟩ x
    exact ⟨hP x, hQ x⟩

theorem exists_or_iff (P Q : α → Prop) : (∃ x, P x ∨ Q x) ↔ (∃ x, P x) ∨ (∃ x, Q x) := by
  constructor
  · rintro ⟨x, hP | hQ⟩
    · exact Or.inl ⟨x, hP⟩
    · exact Or.inr ⟨x, hQ⟩
  · rintro (⟨x, hP⟩ | ⟨x, hQ⟩)
    · exact ⟨x, Or.inl hP⟩
    · exact ⟨x, Or.inr hQ⟩

theorem exists_and_left_of (P Q : α → Prop) (h : ∃ x, P x ∧ Q x) : ∃ x, P x := by
  obtain ⟨x, hP, _⟩ := h
  exact ⟨x, hP⟩

theorem not_exists_iff (P : α → Prop) : (¬ ∃ x, P x) ↔ ∀ x, ¬ P x := by
  constructor
  · intro h x hx
    exact h ⟨x, hx⟩
  · rintro h ⟨x, hx⟩
    exact h x hx

theorem not_forall_of_exists_not (P : α → Prop) (h : ∃ x, ¬ P x) : ¬ ∀ x, P x := by
  intro hall
  obtain ⟨x, hx⟩ := h
  exact hx (hall x)

theorem exists_not_of_not_forall (P : α → Prop) (h : ¬ ∀ x, P x) : ∃ x, ¬ P x := by
  by_cases hex : ∃ x, ¬ P x
  · exact hex
  · exfalso
    apply h
    intro x
    by_cases hx : P x
    · exact hx
    · exact absurd ⟨x, hx⟩ hex

theorem forall_imp_of (P Q : α → Prop) (h : ∀ x, P x → Q x) (hP : ∀ x, P x) : ∀ x, Q x := by
  intro x
  apply h
  exact hP x

theorem exists_imp_of (P Q : α → Prop) (h : ∀ x, P x → Q x) (hP : ∃ x, P x) : ∃ x, Q x := by
  obtain ⟨x, hx⟩ := hP
  exists x
  exact h x hx

theorem forall_swap' (R : α → β → Prop) : (∀ x y, R x y) ↔ (∀ y x, R x y) := by
  constructor
  · intro h y x
    exact h x y
  · intro h x y
    exact h y x

theorem exists_swap' (R : α → β → Prop) : (∃ x y, R x y) ↔ (∃ y x, R x y) := by
  constructor
  · rintro ⟨x, y, h⟩
    exact ⟨y, x, h⟩
  · rintro ⟨y, x, h⟩
    exact ⟨x, y, h⟩

theorem exists_forall_imp_forall_exists (R : α → β → Prop) :
    (∃ x, ∀ y, R x y) → ∀ y, ∃ x, R x y := by
  rintro ⟨x, hx⟩ y
  exact ⟨x, hx y⟩

theorem forall_const_of_inhabited (p : Prop) (a : α) : (∀ _ : α, p) ↔ p := by
  constructor
  · intro h
    exact h a
  · intro hp _
    exact hp

theorem exists_const_of_inhabited (p : Prop) (a : α) : (∃ _ : α, p) ↔ p := by
  constructor
  · rintro ⟨_, hp⟩
    exact hp
  · intro hp
    exact ⟨a, hp⟩

theorem exists_eq' (a : α) : ∃ x, x = a := by
  exact ⟨a, rfl⟩

theorem forall_eq_imp (P : α → Prop) (a : α) : (∀ x, x = a → P x) ↔ P a := by
  constructor
  · intro h
    exact h a rfl
  · intro h x hx
    rw [hx]
    exact h

theorem drinker_style (P : Nat → Prop) (h : ∀ n, P n → P (n + 1)) (h0 : P 0) : ∀ n, P n := by
  intro n
  induction n with
  | zero => exact h0
  | succ n ih =>
    exact h n ih

theorem no_largest_nat : ¬ ∃ n : Nat, ∀ m : Nat, m ≤ n := by
  rintro ⟨n, hn⟩
  have h := hn (n + 1)
  omega

theorem exists_unique_zero_add : ∃ n : Nat, ∀ m, n + m = m := by
  refine ⟨0, ?_⟩
  intro m
  simp

theorem forall_exists_gt : ∀ n : Nat, ∃ m, m > n ∧ m % 2 = 0 := by
  intro n
  refine ⟨2 * n + 2, ?_, ?_⟩
  · omega
  · omega

theorem eq_comm_iff (a b : α) : a = b ↔ b = a := by
  constructor
  · intro h
    exact h.symm
  · intro h
    rw [h]

theorem congr_arg_example (f : Nat → Nat) (a b : Nat) (h : a = b) : f a = f b := by
  rw [h]

theorem eq_trans_example (a b c : Nat) (h1 : a = b) (h2 : c = b) : a = c := by
  rw [h1, h2]

theorem eq_subst_example (P : Nat → Prop) (a b : Nat) (h : a = b) (ha : P a) : P b := by
  subst h
  exact ha

theorem specialize_forall (P : Nat → Prop) (h : ∀ n, P n) : P 3 ∧ P 5 := by
  have h3 := h 3
  specialize h 5
  exact ⟨h3, h⟩

theorem relation_symm_trans (R : α → α → Prop)
    (hsymm : ∀ x y, R x y → R y x) (htrans : ∀ x y z, R x y → R y z → R x z)
    (a b : α) (hab : R a b) : R a a := by
  have hba : R b a := hsymm a b hab
  exact htrans a b a hab hba

theorem injective_comp (f : β → γ) (g : α → β)
    (hf : ∀ x y, f x = f y → x = y) (hg : ∀ x y, g x = g y → x = y) :
    ∀ x y, f (g x) = f (g y) → x = y := by
  intro x y h
  apply hg
  apply hf
  exact h

theorem surjective_comp (f : β → γ) (g : α → β)
    (hf : ∀ c, ∃ b, f b = c) (hg : ∀ b, ∃ a, g a = b) :
    ∀ c, ∃ a, f (g a) = c := by
  intro c
  obtain ⟨b, hb⟩ := hf c
  obtain ⟨a, ha⟩ := hg b
  refine ⟨a, ?_⟩
  rw [ha]
  exact hb

theorem left_inverse_injective (f : α → β) (g : β → α) (h : ∀ x, g (f x) = x) :
    ∀ x y, f x = f y → x = y := by
  intro x y hxy
  calc x = g (f x) := (h x).symm
    _ = g (f y) := by rw [hxy]
    _ = y := h y

theorem cantor_no_surjection (f : α → α → Prop) : ¬ ∀ P : α → Prop, ∃ a, f a = P := by
  intro h
  obtain ⟨a, ha⟩ := h (fun x => ¬ f x x)
  have key : f a a ↔ ¬ f a a := by
    constructor
    · intro hfaa
      have : (fun x => ¬ f x x) a := by
        rw [← ha]
        exact hfaa
      exact this
    · intro hn
      rw [ha]
      exact hn
  exact not_iff_self' (f a a) key

theorem funext_logic (f g : Nat → Nat) (h : ∀ x, f x = g x) : f = g := by
  funext x
  exact h x

theorem funext_compose_id (f : Nat → Nat) : (fun x => f (id x)) = f := by
  funext x
  rfl

theorem prop_ext_example (p q : Prop) (hpq : p → q) (hqp : q → p) : p = q := by
  apply propext
  exact ⟨hpq, hqp⟩

theorem exists_of_exists_nat_lt (P : Nat → Prop) (h : ∃ n, n < 3 ∧ P n) :
    P 0 ∨ P 1 ∨ P 2 := by
  obtain ⟨n, hn, hp⟩ := h
  rcases n with _ | _ | _ | n
  · exact Or.inl hp
  · exact Or.inr (Or.inl hp)
  · exact Or.inr (Or.inr hp)
  · omega

theorem simp_all_example (p q : Prop) (hp : p) (hpq : p → q) : q ∧ p := by
  simp_all

theorem simp_at_example (a b : Nat) (h : a + 0 = b * 1) : a = b := by
  simp at h
  exact h

theorem first_combinator_example (p q : Prop) (hp : p) (hq : q) : (p ∧ q) ∧ (q ∧ p) := by
  constructor <;> constructor <;> first
    | exact hp
    | exact hq

theorem repeat_intro_example : ∀ a b c : Prop, a → b → c → a := by
  repeat intro _
  assumption

/-! ## More practice with `calc`, `show`, `specialize`, `simp_all`, `intros`, `repeat` -/

theorem calc_iff (p q r : Prop) (h1 : p ↔ q) (h2 : q ↔ r) : p ↔ r := by
  calc p ↔ q := h1
    _ ↔ r := h2

theorem show_not (p : Prop) (h : p → False) : ¬ p := by
  show p → False
  exact h

theorem specialize_chain (P Q : Nat → Prop) (h1 : ∀ n, P n → Q n) (h2 : ∀ n, P n)
    : Q 7 := by
  specialize h1 7
  specialize h2 7
  exact h1 h2

theorem simp_all_props (p q r : Prop) (hp : p) (hq : p → q) (hr : q → r) : r := by
  simp_all

theorem intros_and_imp : ∀ p q : Prop, p ∧ q → q := by
  intros p q h
  exact h.2

theorem repeat_constructor_and (p : Prop) (hp : p) : p ∧ p ∧ p ∧ p := by
  repeat (first | exact hp | constructor)

theorem rw_rev_iff (p q : Prop) (h : p ↔ q) (hq : q) : p := by
  rw [← h] at hq
  exact hq

theorem exists_pair_sum : ∃ a b : Nat, a + b = 5 ∧ a * b = 6 := by
  exists 2, 3

theorem unfold_not (p : Prop) (h : ¬¬¬p) : ¬p := by
  unfold Not at *
  intro hp
  apply h
  intro hnp
  exact hnp hp

end LeanCot.Corpus.Logic

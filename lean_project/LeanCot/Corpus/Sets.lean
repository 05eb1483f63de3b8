/-
LeanCot corpus: predicates as sets.
Core Lean 4 only (no Mathlib): the set operations below are our own definitions.
Every proof is a tactic proof.
-/

universe u v

namespace LeanCot.Corpus.Sets

/-- A set of elements of `α`, as a predicate. -/
def Set' (α : Type u) : Type u := α → Prop

variable {α : Type u} {β : Type v}

/-- Membership. -/
def mem (x : α) (s : Set' α) : Prop := s x

/-- The empty set. -/
def empty : Set' α := fun _ => False

/-- The whole type. -/
def univ : Set' α := fun _ => True

/-- Subset. -/
def Subset (s t : Set' α) : Prop := ∀ x, mem x s → mem x t

/-- Union. -/
def union (s t : Set' α) : Set' α := fun x => mem x s ∨ mem x t

/-- Intersection. -/
def inter (s t : Set' α) : Set' α := fun x => mem x s ∧ mem x t

/-- Complement. -/
def compl (s : Set' α) : Set' α := fun x => ¬ mem x s

/-- Difference. -/
def diff (s t : Set' α) : Set' α := fun x => mem x s ∧ ¬ mem x t

/-- Image of a set under a function. -/
def image (f : α → β) (s : Set' α) : Set' β := fun y => ∃ x, mem x s ∧ f x = y

/-- Preimage of a set under a function. -/
def preimage (f : α → β) (t : Set' β) : Set' α := fun x => mem (f x) t

/-- Singleton. -/
def singleton (a : α) : Set' α := fun x => x = a

/-- Insert an element. -/
def insert (a : α) (s : Set' α) : Set' α := fun x => x = a ∨ mem x s

/-- Extensional equality of sets. -/
def SetEq (s t : Set' α) : Prop := ∀ x, mem x s ↔ mem x t

/-- The even natural numbers. -/
def evens : Set' Nat := fun n => n % 2 = 0

/-- The natural numbers below `k`. -/
def below (k : Nat) : Set' Nat := fun n => n < k

/-! ## Membership basics -/

theorem mem_univ' (x : α) : mem x (univ : Set' α) := by
  trivial

theorem not_mem_empty' (x : α) : ¬ mem x (empty : Set' α) := by
  intro h
  exact h

theorem mem_singleton_self (a : α) : mem a (singleton a) := by
  rfl

theorem mem_singleton_iff (a x : α) : mem x (singleton a) ↔ x = a := by
  rfl

theorem mem_insert_self (a : α) (s : Set' α) : mem a (insert a s) := by
  left
  rfl

theorem mem_insert_of_mem (a x : α) (s : Set' α) (h : mem x s) : mem x (insert a s) := by
  right
  exact h

theorem four_mem_evens : mem 4 evens := by
  unfold mem evens
  decide

theorem three_not_mem_evens : ¬ mem 3 evens := by
  show ¬ (3 % 2 = 0)
  decide

theorem two_mem_below_five : mem 2 (below 5) := by
  show 2 < 5
  omega

theorem mem_union_left (s t : Set' α) (x : α) (h : mem x s) : mem x (union s t) := by
  left
  exact h

theorem mem_union_right (s t : Set' α) (x : α) (h : mem x t) : mem x (union s t) := by
  exact Or.inr h

theorem mem_inter_of (s t : Set' α) (x : α) (hs : mem x s) (ht : mem x t) :
    mem x (inter s t) := by
  exact ⟨hs, ht⟩

theorem mem_of_mem_inter_left (s t : Set' α) (x : α) (h : mem x (inter s t)) : mem x s := by
  exact h.1

theorem mem_compl_iff (s : Set' α) (x : α) : mem x (compl s) ↔ ¬ mem x s := by
  rfl

/-! ## Subset -/

theorem subset_refl (s : Set' α) : Subset s s := by
  intro x hx
  exact hx

theorem subset_trans (s t r : Set' α) (h1 : Subset s t) (h2 : Subset t r) : Subset s r := by
  intro x hx
  apply h2
  apply h1
  exact hx

theorem empty_subset (s : Set' α) : Subset empty s := by
  intro x hx
  contradiction

theorem subset_univ (s : Set' α) : Subset s univ := by
  intro _ _
  trivial

theorem subset_union_left (s t : Set' α) : Subset s (union s t) := by
  intro x hx
  exact Or.inl hx

theorem inter_subset_left (s t : Set' α) : Subset (inter s t) s := by
  intro x hx
  exact hx.1

theorem union_subset (s t r : Set' α) (hs : Subset s r) (ht : Subset t r) :
    Subset (union s t) r := by
  intro x hx
  cases hx with
  | inl h => exact hs x h
  | inr h => exact ht x h

theorem subset_inter (s t r : Set' α) (ht : Subset r s) (hu : Subset r t) :
    Subset r (inter s t) := by
  intro x hx
  constructor
  · exact ht x hx
  · exact hu x hx

theorem subset_antisymm (s t : Set' α) (h1 : Subset s t) (h2 : Subset t s) : SetEq s t := by
  intro x
  constructor
  · exact h1 x
  · exact h2 x

theorem union_subset_iff (s t r : Set' α) :
    Subset (union s t) r ↔ Subset s r ∧ Subset t r := by
  constructor
  · intro h
    refine ⟨?_, ?_⟩
    · intro x hx
      exact h x (Or.inl hx)
    · intro x hx
      exact h x (Or.inr hx)
  · rintro ⟨hs, ht⟩
    exact union_subset s t r hs ht

theorem subset_empty_iff (s : Set' α) : Subset s empty ↔ ∀ x, ¬ mem x s := by
  constructor
  · intro h x hx
    exact h x hx
  · intro h x hx
    exact absurd hx (h x)

theorem below_subset_below (m n : Nat) (h : m ≤ n) : Subset (below m) (below n) := by
  intro x hx
  unfold below mem at *
  omega

theorem evens_inter_below_subset (k : Nat) : Subset (inter evens (below k)) (below k) := by
  intro x hx
  obtain ⟨_, hb⟩ := hx
  exact hb

theorem insert_subset_iff (a : α) (s t : Set' α) :
    Subset (insert a s) t ↔ mem a t ∧ Subset s t := by
  constructor
  · intro h
    constructor
    · exact h a (Or.inl rfl)
    · intro x hx
      exact h x (Or.inr hx)
  · rintro ⟨ha, hs⟩ x (hx | hx)
    · rw [hx]
      exact ha
    · exact hs x hx

/-! ## Algebra of sets (extensional equality) -/

theorem setEq_refl (s : Set' α) : SetEq s s := by
  intro x
  exact Iff.rfl

theorem setEq_symm (s t : Set' α) (h : SetEq s t) : SetEq t s := by
  intro x
  exact (h x).symm

theorem setEq_trans (s t r : Set' α) (h1 : SetEq s t) (h2 : SetEq t r) : SetEq s r := by
  intro x
  rw [h1 x]
  exact h2 x

theorem setEq_eq (s t : Set' α) (h : SetEq s t) : s = t := by
  funext x
  apply propext
  exact h x

theorem union_comm (s t : Set' α) : union s t = union t s := by
  funext x
  apply propext
  constructor
  · rintro (h | h)
    · exact Or.inr h
    · exact Or.inl h
  · rintro (h | h)
    · exact Or.inr h
    · exact Or.inl h

theorem inter_comm (s t : Set' α) : SetEq (inter s t) (inter t s) := by
  intro x
  constructor
  · rintro ⟨h1, h2⟩
    exact ⟨h2, h1⟩
  · rintro ⟨h1, h2⟩
    exact ⟨h2, h1⟩

theorem union_assoc (s t r : Set' α) : SetEq (union (union s t) r) (union s (union t r)) := by
  intro x
  simp only [union, mem]
  constructor
  · rintro ((h | h) | h)
    · exact Or.inl h
    · exact Or.inr (Or.inl h)
    · exact Or.inr (Or.inr h)
  · rintro (h | h | h)
    · exact Or.inl (Or.inl h)
    · exact Or.inl (Or.inr h)
    · exact Or.inr h

theorem inter_assoc (s t r : Set' α) : SetEq (inter (inter s t) r) (inter s (inter t r)) := by
  intro x
  simp only [inter, mem]
  constructor
  · rintro ⟨⟨h1, h2⟩, h3⟩
    exact ⟨h1, h2, h3⟩
  · rintro ⟨h1, h2, h3⟩
    exact ⟨⟨h1, h2⟩, h3⟩

theorem union_empty (s : Set' α) : SetEq (union s empty) s := by
  intro x
  constructor
  · rintro (h | h)
    · exact h
    · exact False.elim h
  · intro h
    exact Or.inl h

theorem inter_univ (s : Set' α) : SetEq (inter s univ) s := by
  intro x
  constructor
  · intro h
    exact h.1
  · intro h
    exact ⟨h, trivial⟩

theorem inter_empty (s : Set' α) : SetEq (inter s empty) empty := by
  intro x
  simp [inter, empty, mem]

theorem union_univ (s : Set' α) : SetEq (union s univ) univ := by
  intro x
  simp [union, univ, mem]

theorem union_self (s : Set' α) : SetEq (union s s) s := by
  intro x
  simp [union, mem]

theorem inter_self (s : Set' α) : SetEq (inter s s) s := by
  intro x
  simp [inter, mem]

theorem inter_union_distrib (s t r : Set' α) :
    SetEq (inter s (union t r)) (union (inter s t) (inter s r)) := by
  intro x
  constructor
  · rintro ⟨hs, ht | hr⟩
    · exact Or.inl ⟨hs, ht⟩
    · exact Or.inr ⟨hs, hr⟩
  · rintro (⟨hs, ht⟩ | ⟨hs, hr⟩)
    · exact ⟨hs, Or.inl ht⟩
    · exact ⟨hs, Or.inr hr⟩

theorem union_inter_distrib (s t r : Set' α) :
    SetEq (union s (inter t r)) (inter (union s t) (union s r)) := by
  intro x
  simp only [union, inter, mem]
  constructor
  · rintro (hs | ⟨ht, hr⟩)
    · exact ⟨Or.inl hs, Or.inl hs⟩
    · exact ⟨Or.inr ht, Or.inr hr⟩
  · rintro ⟨hs | ht, hsr⟩
    · exact Or.inl hs
    · rcases hsr with hs | hr
      · exact Or.inl hs
      · exact Or.inr ⟨ht, hr⟩

theorem compl_union (s t : Set' α) : SetEq (compl (union s t)) (inter (compl s) (compl t)) := by
  intro x
  constructor
  · intro h
    constructor
    · intro hs
      exact h (Or.inl hs)
    · intro ht
      exact h (Or.inr ht)
  · rintro ⟨hs, ht⟩ (h | h)
    · exact hs h
    · exact ht h

theorem compl_inter_of (s t : Set' α) (x : α) (h : mem x (union (compl s) (compl t))) :
    mem x (compl (inter s t)) := by
  rintro ⟨hs, ht⟩
  rcases h with h | h
  · exact h hs
  · exact h ht

theorem compl_compl (s : Set' α) : SetEq (compl (compl s)) s := by
  intro x
  constructor
  · intro h
    by_cases hx : mem x s
    · exact hx
    · exact absurd hx h
  · intro h hn
    exact hn h

theorem diff_eq_inter_compl (s t : Set' α) : SetEq (diff s t) (inter s (compl t)) := by
  intro x
  exact Iff.rfl

theorem diff_subset (s t : Set' α) : Subset (diff s t) s := by
  intro x hx
  exact hx.1

theorem diff_inter_empty (s t : Set' α) : SetEq (inter (diff s t) t) empty := by
  intro x
  constructor
  · rintro ⟨⟨_, hnt⟩, ht⟩
    exact hnt ht
  · intro h
    contradiction

theorem union_diff_of_subset (s t : Set' α) (h : Subset s t) : SetEq (union s (diff t s)) t := by
  intro x
  constructor
  · rintro (hs | ⟨ht, _⟩)
    · exact h x hs
    · exact ht
  · intro ht
    by_cases hs : mem x s
    · exact Or.inl hs
    · exact Or.inr ⟨ht, hs⟩

theorem union_compl_univ (s : Set' α) : SetEq (union s (compl s)) univ := by
  intro x
  constructor
  · intro _
    trivial
  · intro _
    by_cases h : mem x s
    · exact Or.inl h
    · exact Or.inr h

theorem below_zero_empty : SetEq (below 0) empty := by
  intro x
  unfold below empty mem
  constructor
  · intro h
    omega
  · intro h
    exact h.elim

theorem below_succ (k : Nat) : SetEq (below (k + 1)) (insert k (below k)) := by
  intro x
  unfold below insert mem
  constructor
  · intro h
    by_cases hx : x = k
    · exact Or.inl hx
    · right
      omega
  · rintro (h | h)
    · omega
    · omega

/-! ## Images and preimages -/

theorem mem_image_of_mem (f : α → β) (s : Set' α) (x : α) (h : mem x s) :
    mem (f x) (image f s) := by
  exact ⟨x, h, rfl⟩

theorem image_subset (f : α → β) (s t : Set' α) (h : Subset s t) :
    Subset (image f s) (image f t) := by
  intro y hy
  obtain ⟨x, hx, rfl⟩ := hy
  exact ⟨x, h x hx, rfl⟩

theorem preimage_union (f : α → β) (s t : Set' β) :
    SetEq (preimage f (union s t)) (union (preimage f s) (preimage f t)) := by
  intro x
  exact Iff.rfl

theorem preimage_inter (f : α → β) (s t : Set' β) :
    SetEq (preimage f (inter s t)) (inter (preimage f s) (preimage f t)) := by
  intro x
  exact Iff.rfl

theorem preimage_subset (f : α → β) (s t : Set' β) (h : Subset s t) :
    Subset (preimage f s) (preimage f t) := by
  intro x hx
  unfold preimage mem at *
  exact h (f x) hx

theorem image_union (f : α → β) (s t : Set' α) :
    SetEq (image f (union s t)) (union (image f s) (image f t)) := by
  intro y
  constructor
  · rintro ⟨x, hs | ht, rfl⟩
    · exact Or.inl ⟨x, hs, rfl⟩
    · exact Or.inr ⟨x, ht, rfl⟩
  · rintro (⟨x, hs, rfl⟩ | ⟨x, ht, rfl⟩)
    · exact ⟨x, Or.inl hs, rfl⟩
    · exact ⟨x, Or.inr ht, rfl⟩

theorem image_preimage_subset (f : α → β) (t : Set' β) : Subset (image f (preimage f t)) t := by
  intro y hy
  obtain ⟨x, hx, hxy⟩ := hy
  rw [← hxy]
  exact hx

theorem subset_preimage_image (f : α → β) (s : Set' α) : Subset s (preimage f (image f s)) := by
  intro x hx
  show ∃ x', mem x' s ∧ f x' = f x
  exact ⟨x, hx, rfl⟩

theorem image_singleton (f : α → β) (a : α) : SetEq (image f (singleton a)) (singleton (f a)) := by
  intro y
  constructor
  · rintro ⟨x, hx, rfl⟩
    have hxa : x = a := hx
    rw [hxa]
    rfl
  · intro hy
    exact ⟨a, rfl, hy.symm⟩

theorem double_image_evens (n : Nat) (h : mem n (image (fun k => 2 * k) univ)) :
    mem n evens := by
  obtain ⟨k, _, hk⟩ := h
  simp only at hk
  unfold evens mem
  omega

theorem evens_subset_image_double : Subset evens (image (fun k => 2 * k) univ) := by
  intro n hn
  unfold evens mem at hn
  refine ⟨n / 2, trivial, ?_⟩
  show 2 * (n / 2) = n
  omega

theorem evens_closed_add (a b : Nat) (ha : mem a evens) (hb : mem b evens) :
    mem (a + b) evens := by
  unfold evens mem at *
  omega

theorem preimage_succ_below (k : Nat) : SetEq (preimage (· + 1) (below (k + 1))) (below k) := by
  intro x
  simp only [preimage, below, mem]
  omega

/-! ## More practice with `calc`, `show`, `specialize`, `simp_all`, `intros`, `repeat` -/

theorem show_mem_union (s t : Set' α) (x : α) (h : mem x t) : mem x (union s t) := by
  show mem x s ∨ mem x t
  right
  exact h

theorem specialize_subset (s t : Set' α) (h : Subset s t) (a : α) (ha : mem a s) :
    mem a t := by
  specialize h a
  exact h ha

theorem simp_all_subset_self (s : Set' Nat) (h : s = evens) : mem 0 s := by
  simp_all [mem, evens]

theorem intros_subset_union : ∀ s t : Set' α, Subset t (union s t) := by
  intros s t x hx
  exact Or.inr hx

theorem rw_rev_setEq (s t : Set' α) (h : s = t) (x : α) (hx : mem x t) : mem x s := by
  rw [← h] at hx
  exact hx

theorem subset_trans_calc (s t r : Set' α) (h1 : Subset s t) (h2 : Subset t r) (x : α)
    (hx : mem x s) : mem x r := by
  have hxt : mem x t := h1 x hx
  exact h2 x hxt

theorem exists_mem_evens : ∃ n, mem n evens ∧ 10 < n := by
  exists 12

theorem evens_below_nonempty (k : Nat) (hk : 0 < k) : ∃ n, mem n (inter evens (below k)) := by
  refine ⟨0, ?_, ?_⟩
  · show 0 % 2 = 0
    rfl
  · show 0 < k
    exact hk

end LeanCot.Corpus.Sets

"""The business's figures and the review of misunderstood messages, served to the advisers'
console by the policy service (operations/analytics.py and operations/training_review.py fill
them from the stored conversations)."""

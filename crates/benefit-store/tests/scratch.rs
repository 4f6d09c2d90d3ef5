//! The scratch store of a long pass keeps the documents contract of every
//! backend (`benefit_store::conformance`'s document cases), and leaves
//! nothing behind.

use benefit_store::{conformance, ProjectionStore, ScratchDocuments};

fn scratch() -> ScratchDocuments {
    ScratchDocuments::open().expect("a scratch store in the temporary directory")
}

#[test]
fn a_scratch_store_commits_documents_with_their_checkpoint_and_resets() {
    conformance::projection_documents_commit_with_their_checkpoint_and_reset(&scratch());
}

#[test]
fn a_scratch_store_reads_documents_together_as_one_by_one() {
    conformance::projection_documents_read_together_answer_each_key_in_order(&scratch());
}

#[test]
fn a_scratch_store_reads_a_family_page_by_page_as_in_one_scan() {
    conformance::projection_scan_pages_cover_the_scan(&scratch());
}

/// A long fold's first move to disk writes pages; what it commits after is
/// read over them.
#[test]
fn a_scratch_store_replaced_in_pages_reads_commits_over_them() {
    conformance::projection_replace_swaps_every_document_for_the_set_given(&scratch());
}

#[test]
fn a_scratch_store_removes_its_directory_when_dropped() {
    let store = scratch();
    let dir = store.path().to_path_buf();
    store
        .projection_commit(0, 7, [("a/1".to_owned(), vec![1; 4096])].into())
        .expect("commits");
    assert!(dir.is_dir(), "{} while in use", dir.display());
    drop(store);
    assert!(!dir.exists(), "{} is left behind", dir.display());
}

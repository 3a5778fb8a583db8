from console import main

if __name__ == "__main__":  # not again in the processes multiprocessing starts (heritage ingest --jobs)
    main()
